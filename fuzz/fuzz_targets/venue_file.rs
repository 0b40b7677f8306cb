//! Any bytes as a venue file of the open-data standard, CSV or JSON (the first byte picks):
//! reading never panics; a file read is rows with every required column, and a CSV's rows
//! all have the header's columns (a ragged file is refused whole, not read in part).
#![no_main]

use cafeia_facilitators_api::VenueFileFormat;
use cafeia_lieux::{REQUIRED, read_rows};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, file)) = data.split_first() else {
        return;
    };
    let format = if pick % 2 == 0 {
        VenueFileFormat::Csv
    } else {
        VenueFileFormat::Json
    };
    let Ok(rows) = read_rows(format, file) else {
        return;
    };
    if format == VenueFileFormat::Csv {
        let mut widths = rows.iter().map(|row| row.len());
        if let Some(first) = widths.next() {
            assert!(widths.all(|w| w == first), "rows of unequal widths read");
            for column in REQUIRED {
                assert!(rows[0].contains_key(column), "a row without {column}");
            }
        }
    }
});
