//! A table of documents kept in insertion order with an id index. Why: the simulator serves tens of
//! thousands of credit notes (`--scale-credit-notes`), and the sync fetches each one's lines by id, so
//! lookups must not scan; insertion order keeps seeding and iteration deterministic.

use std::collections::HashMap;

/// A document with a stable id.
pub trait Row {
    fn id(&self) -> &str;
}

#[derive(Debug, Clone)]
pub struct Table<T> {
    rows: Vec<T>,
    index: HashMap<String, usize>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table { rows: Vec::new(), index: HashMap::new() }
    }
}

impl<T: Row> Table<T> {
    /// Adds a row (a row with the same id is replaced in place).
    pub fn insert(&mut self, row: T) {
        match self.index.get(row.id()) {
            Some(&i) => self.rows[i] = row,
            None => {
                self.index.insert(row.id().to_owned(), self.rows.len());
                self.rows.push(row);
            }
        }
    }

    pub fn get(&self, id: &str) -> Option<&T> {
        self.index.get(id).map(|&i| &self.rows[i])
    }

    /// Callers must not change the row's id.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        self.index.get(id).map(|&i| &mut self.rows[i])
    }

    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// Removes a row (rare: re-indexes the rest).
    pub fn remove(&mut self, id: &str) -> Option<T> {
        let i = self.index.remove(id)?;
        let row = self.rows.remove(i);
        for (k, r) in self.rows.iter().enumerate().skip(i) {
            self.index.insert(r.id().to_owned(), k);
        }
        Some(row)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.rows.iter()
    }

    /// Callers must not change the rows' ids.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.rows.iter_mut()
    }

    pub fn first(&self) -> Option<&T> {
        self.rows.first()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn clear(&mut self) {
        self.rows.clear();
        self.index.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Row for (String, u32) {
        fn id(&self) -> &str {
            &self.0
        }
    }

    #[test]
    fn insert_get_remove_keep_order_and_index() {
        let mut t = Table::default();
        for (k, id) in ["a", "b", "c", "d"].iter().enumerate() {
            t.insert((id.to_string(), k as u32));
        }
        t.insert(("b".to_string(), 9));
        assert_eq!(t.get("b").map(|r| r.1), Some(9));
        assert_eq!(t.remove("b").map(|r| r.1), Some(9));
        assert!(t.get("b").is_none());
        assert_eq!(t.get("d").map(|r| r.1), Some(3));
        assert_eq!(t.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["a", "c", "d"]);
        assert_eq!(t.len(), 3);
    }
}
