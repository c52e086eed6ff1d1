//! Reading our data files as RFC 4180 CSV (the `csv` crate: quoted fields, `""` escapes, line breaks inside
//! quotes, CRLF), with the 1-based line where each record starts, so a data error names `file:line`.

use super::error::DataError;

/// A parsed file: every field's text in one buffer, so loading the content's ~64,000 records costs a few
/// allocations per file, not three per record (what a `csv::StringRecord` each would cost).
pub(crate) struct Parsed {
    buf: String,
    /// Where each field ends in `buf`.
    ends: Vec<usize>,
    /// Per record: its line, where its first field starts in `buf`, and its fields in `ends`.
    rows: Vec<(usize, usize, std::ops::Range<usize>)>,
}

impl Parsed {
    /// The records, in file order.
    pub(crate) fn records(&self) -> Vec<Record<'_>> {
        self.rows
            .iter()
            .map(|(line, start, fields)| Record {
                line: *line,
                fields: Fields { buf: &self.buf, start: *start, ends: &self.ends[fields.clone()] },
            })
            .collect()
    }
}

/// One record: the line it starts on and its fields.
#[derive(Clone, Copy)]
pub(crate) struct Record<'a> {
    pub line: usize,
    pub fields: Fields<'a>,
}

/// A record's fields.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    buf: &'a str,
    start: usize,
    ends: &'a [usize],
}

impl<'a> Fields<'a> {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        let from = if i == 0 { self.start } else { *self.ends.get(i - 1)? };
        self.buf.get(from..*self.ends.get(i)?)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let fields = *self;
        (0..fields.len()).filter_map(move |i| fields.get(i))
    }
}

/// Every record of `text` (a UTF-8 BOM is ignored; blank lines are skipped). A malformed file is an error
/// naming the line.
pub(crate) fn parse(file: &str, text: &str) -> Result<Parsed, DataError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let lines = text.bytes().filter(|b| *b == b'\n').count() + 1;
    let mut out = Parsed { buf: String::with_capacity(text.len()), ends: Vec::new(), rows: Vec::with_capacity(lines) };
    // The line a record starts on: from the reader's byte offset before it, past any blank lines, counted
    // forward once through the file.
    let bytes = text.as_bytes();
    let (mut at, mut line) = (0usize, 1usize);
    let mut record = csv::StringRecord::new();
    loop {
        let mut start = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX).min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        line += text.get(at.min(start)..start).map_or(0, |s| s.matches('\n').count());
        at = start;
        let more = reader.read_record(&mut record).map_err(|e| DataError {
            file: file.to_owned(),
            line,
            message: e.to_string(),
        })?;
        if !more {
            break;
        }
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let (first_field, first_end) = (out.buf.len(), out.ends.len());
        for f in &record {
            out.buf.push_str(f);
            out.ends.push(out.buf.len());
        }
        out.rows.push((line, first_field, first_end..out.ends.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_escapes_and_line_breaks_inside_quotes() {
        let parsed = parse("t.csv", "a,\"b,c\",\"d \"\"e\"\"\"\r\n\nx,\"two\nlines\",z\nlast,1,2\n").unwrap();
        let r = parsed.records();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].fields.iter().collect::<Vec<_>>(), vec!["a", "b,c", "d \"e\""]);
        assert_eq!((r[1].line, r[1].fields.get(1).unwrap_or_default()), (3, "two\nlines"));
        assert_eq!(r[2].line, 5, "a record's line counts the line break inside the quotes before it");
    }

    #[test]
    fn an_unterminated_quote_cannot_pass_the_column_check() {
        // RFC 4180 readers take an unterminated quote to the end of the file; the loaders' column check (every
        // record has the header's columns) then refuses the file at the line where it starts.
        let parsed = parse("t.csv", "a,b\n1,2\n\"oops,3\n4,5\n").unwrap();
        let recs = parsed.records();
        let e = super::super::data::check_header("t.csv", &recs, &["a", "b"]).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
    }
}
