//! Rows numbered as the file's own lines: the venue import reports data rows (1 = the first
//! after the header, or the first venue of a JSON array), people look for lines in their
//! editor, as the standard's validator counts them. A CSV row may span lines (a quoted
//! return), a JSON venue is wherever it starts: both are read here from the file itself.

/// The line (1-based) each data row of a CSV file starts on, read as the import reads it
/// (the `csv` crate, a header first).
pub fn csv_rows(text: &str) -> Vec<u64> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::ByteRecord::new();
    let mut lines = Vec::new();
    // A row the import could not read stops its report too: the lines so far are what counts.
    while let Ok(true) = reader.read_byte_record(&mut record) {
        lines.push(record.position().map_or(0, |p| p.line()));
    }
    lines
}

/// The line (1-based) each venue of a JSON file starts on: the elements of the top-level
/// array, or of the array under the top-level key `lieux`, as the import reads them.
pub fn json_rows(text: &str) -> Vec<u64> {
    let mut line = 1u64;
    // The open containers, `[` or `{`.
    let mut open: Vec<char> = Vec::new();
    // How deep the venues' array is, once found.
    let mut venues: Option<usize> = None;
    // Inside the venues' array, after `[` or `,`: the next value is a venue.
    let mut expecting = false;
    let (mut in_string, mut escaped) = (false, false);
    // In the top-level object, the next string is a key; the last key read.
    let (mut key_next, mut key) = (false, String::new());
    let mut string = String::new();
    let mut starts = Vec::new();
    for ch in text.chars() {
        if ch == '\n' {
            line += 1;
        }
        if in_string {
            if escaped {
                escaped = false;
                string.push(ch);
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                in_string = false;
                if key_next && open == ['{'] {
                    key = std::mem::take(&mut string);
                    key_next = false;
                }
            } else if open.len() == 1 {
                string.push(ch);
            }
            continue;
        }
        if venues == Some(open.len()) && expecting && !ch.is_whitespace() && ch != ']' {
            starts.push(line);
            expecting = false;
        }
        match ch {
            '"' => {
                in_string = true;
                string.clear();
            }
            '[' | '{' => {
                open.push(ch);
                let top_array = open == ['['];
                let under_lieux = open == ['{', '['] && key == "lieux";
                if ch == '[' && venues.is_none() && (top_array || under_lieux) {
                    venues = Some(open.len());
                    expecting = true;
                }
                if open == ['{'] {
                    key_next = true;
                }
            }
            ']' | '}' => {
                if venues == Some(open.len()) {
                    return starts;
                }
                open.pop();
            }
            ',' => {
                if venues == Some(open.len()) {
                    expecting = true;
                }
                if open == ['{'] {
                    key_next = true;
                }
            }
            _ => {}
        }
    }
    starts
}

/// The line of data row `row` (1-based), when the file has it.
pub fn line_of(lines: &[u64], row: i64) -> Option<u64> {
    let index = usize::try_from(row).ok()?.checked_sub(1)?;
    lines.get(index).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_row_is_the_line_it_starts_on() {
        let text = "id,nom\n1,Médiathèque\n2,\"Deux\nlignes\"\n3,Trois\n";
        assert_eq!(csv_rows(text), [2, 3, 5]);
    }

    #[test]
    fn a_json_venue_is_the_line_it_starts_on() {
        let array = "[\n  {\"id\": \"a\", \"nom\": \"[x]\"},\n  {\n    \"id\": \"b\"\n  }\n]";
        assert_eq!(json_rows(array), [2, 3]);
        let wrapped = "{\"source\": \"[\\\"\", \"autre\": [1, 2],\n \"lieux\": [\n{\"id\": 1},\n\n{\"id\": 2}]}";
        assert_eq!(json_rows(wrapped), [3, 5]);
        assert_eq!(line_of(&[3, 5], 2), Some(5));
        assert_eq!(line_of(&[3, 5], 3), None);
        assert_eq!(line_of(&[3, 5], 0), None);
    }
}
