//! A minimal RFC 4180 CSV reader for our own data files (quoted fields, `""` escapes, CRLF, UTF-8 BOM).
//! Kept here because the workspace has no CSV crate and the files are small and trusted-but-validated.

use super::error::DataError;

/// One parsed record: its 1-based line number and its fields.
pub(crate) struct Record<'a> {
    pub line: usize,
    pub fields: Vec<std::borrow::Cow<'a, str>>,
}

/// Splits `text` into records. Blank lines are skipped. An unterminated quote is an error.
pub(crate) fn records<'a>(file: &str, text: &'a str) -> Result<Vec<Record<'a>>, DataError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::with_capacity(text.bytes().filter(|b| *b == b'\n').count() + 1);
    for (idx, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        out.push(Record { line: idx + 1, fields: split(file, idx + 1, line)? });
    }
    Ok(out)
}

fn split<'a>(file: &str, line_no: usize, line: &'a str) -> Result<Vec<std::borrow::Cow<'a, str>>, DataError> {
    if !line.contains('"') {
        let mut fields = Vec::with_capacity(line.bytes().filter(|b| *b == b',').count() + 1);
        fields.extend(line.split(',').map(std::borrow::Cow::Borrowed));
        return Ok(fields);
    }
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut in_quotes = false;
    while let Some(c) = chars.next() {
        match (in_quotes, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => in_quotes = false,
            (false, '"') if cur.is_empty() => in_quotes = true,
            (false, ',') => fields.push(std::borrow::Cow::Owned(std::mem::take(&mut cur))),
            (_, c) => cur.push(c),
        }
    }
    if in_quotes {
        return Err(DataError { file: file.to_owned(), line: line_no, message: "unterminated quoted field".into() });
    }
    fields.push(std::borrow::Cow::Owned(cur));
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_and_escapes() {
        let r = records("t.csv", "a,\"b,c\",\"d \"\"e\"\"\"\r\n\nx,y,z\n").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].fields, vec!["a", "b,c", "d \"e\""]);
        assert_eq!(r[1].line, 3);
    }

    #[test]
    fn unterminated_quote_names_the_line() {
        let e = records("t.csv", "a,b\n\"oops,c\n").err().unwrap();
        assert_eq!(e.line, 2);
        assert_eq!(e.to_string(), "data/t.csv:2: unterminated quoted field");
    }
}
