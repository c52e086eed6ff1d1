//! Page-at-a-time access to a Sequence list.

use super::{DeserializeOwned, HashSet, ListQuery, Page, PhantomData, SequenceClient, SequenceError};

/// Page-at-a-time access to a list, for callers that checkpoint between pages. Follows `after` until
/// it is absent or null and stops with [`SequenceError::RepeatedPageToken`] on a cursor it has already
/// followed.
pub struct Pager<T> {
    client: SequenceClient,
    path: String,
    pairs: Vec<(&'static str, String)>,
    next: Option<String>,
    seen: HashSet<String>,
    done: bool,
    _t: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pager<T> {
    pub(super) fn new(client: SequenceClient, path: String, q: &impl ListQuery) -> Self {
        Self::with_pairs(client, path, q.to_pairs())
    }

    pub(super) fn with_pairs(client: SequenceClient, path: String, pairs: Vec<(&'static str, String)>) -> Self {
        Pager { client, path, pairs, next: None, seen: HashSet::new(), done: false, _t: PhantomData }
    }

    /// The next page, or `None` after the last.
    pub async fn next_page(&mut self) -> Result<Option<Page<T>>, SequenceError> {
        if self.done {
            return Ok(None);
        }
        let page = self.client.page_with_pairs::<T>(&self.path, self.pairs.clone(), self.next.as_deref()).await?;
        match &page.after {
            None => self.done = true,
            Some(a) => {
                if !self.seen.insert(a.clone()) {
                    self.done = true;
                    return Err(SequenceError::RepeatedPageToken { path: self.path.clone() });
                }
                self.next = Some(a.clone());
            }
        }
        Ok(Some(page))
    }

    /// Continues a walk from a cursor taken earlier in the same run (cursors are never kept across
    /// runs: their lifetime is undocumented).
    pub fn starting_after(mut self, token: impl Into<String>) -> Self {
        let t = token.into();
        if !t.is_empty() {
            self.seen.insert(t.clone());
            self.next = Some(t);
        }
        self
    }

    /// The cursor the next call will send (`None` before the first page and after the last).
    pub fn next_token(&self) -> Option<&str> {
        if self.done { None } else { self.next.as_deref() }
    }

    /// Every remaining item. A whole collection is all or nothing: an item that does not decode
    /// fails it with [`SequenceError::Decode`] (callers that can import around a bad item page with
    /// [`Pager::next_page`] instead).
    pub async fn collect(&mut self) -> Result<Vec<T>, SequenceError> {
        let mut all = Vec::new();
        while let Some(p) = self.next_page().await? {
            if let Some(r) = p.rejected.into_iter().next() {
                return Err(SequenceError::Decode { path: self.path.clone(), message: r.reason });
            }
            all.extend(p.items);
        }
        Ok(all)
    }
}
