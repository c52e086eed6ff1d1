//! Reading our data files as RFC 4180 CSV (the `csv` crate: quoted fields, `""` escapes, line breaks inside
//! quotes, CRLF), with the 1-based line where each record starts, so a data error names `file:line`.

use super::error::DataError;

/// One parsed record: the line it starts on and its fields (one buffer per record, not one string per field:
/// the content's ~64,000 records load in a few milliseconds).
pub(crate) struct Record {
    pub line: usize,
    pub fields: csv::StringRecord,
}

/// Every record of `text` (a UTF-8 BOM is ignored; blank lines are skipped). A malformed file is an error
/// naming the line.
pub(crate) fn records(file: &str, text: &str) -> Result<Vec<Record>, DataError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut out = Vec::with_capacity(text.bytes().filter(|b| *b == b'\n').count() + 1);
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
        out.push(Record { line, fields: record.clone() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_escapes_and_line_breaks_inside_quotes() {
        let r = records("t.csv", "a,\"b,c\",\"d \"\"e\"\"\"\r\n\nx,\"two\nlines\",z\nlast,1,2\n").unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].fields.iter().collect::<Vec<_>>(), vec!["a", "b,c", "d \"e\""]);
        assert_eq!((r[1].line, &r[1].fields[1]), (3, "two\nlines"));
        assert_eq!(r[2].line, 5, "a record's line counts the line break inside the quotes before it");
    }

    #[test]
    fn an_unterminated_quote_cannot_pass_the_column_check() {
        // RFC 4180 readers take an unterminated quote to the end of the file; the loaders' column check (every
        // record has the header's columns) then refuses the file at the line where it starts.
        let recs = records("t.csv", "a,b\n1,2\n\"oops,3\n4,5\n").unwrap();
        let e = super::super::data::check_header("t.csv", &recs, &["a", "b"]).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
    }
}
