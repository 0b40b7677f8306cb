//! Any bytes as an LHEO file: the reader never panics, and every offer it hands on is held
//! to its bounds (nesting depth, size), whatever the file.
#![no_main]

use cafeia_lheo::{MAX_DEPTH, MAX_OFFER_BYTES, Node, read_all};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
});

/// Depth of the tree below and including `node`, and the bytes of text it holds.
fn measure(node: &Node) -> (usize, usize) {
    node.children.iter().map(measure).fold(
        (1, node.text.len() + node.name.len()),
        |(depth, bytes), (d, b)| (depth.max(d + 1), bytes + b),
    )
}

fuzz_target!(|data: &[u8]| {
    let Ok(offers) = RUNTIME.block_on(read_all(data)) else {
        return;
    };
    for offer in offers.iter().flatten() {
        let (depth, bytes) = measure(offer);
        assert!(
            depth <= MAX_DEPTH,
            "an offer {depth} elements deep was handed on"
        );
        assert!(
            bytes <= MAX_OFFER_BYTES,
            "an offer of {bytes} bytes was handed on"
        );
    }
});
