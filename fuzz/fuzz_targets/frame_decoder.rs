//! Feeds arbitrary bytes to the EventStream decoder in arbitrary chunks, then reads every decoded
//! frame as a typed event. Nothing may panic, and a frame that decodes must re-encode to the exact
//! bytes it came from.
#![no_main]

use bytes::BytesMut;
use kiro_wire::{Event, FrameDecoder, encode_to_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the read size, so chunk boundaries land everywhere.
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    let step = usize::from(split).max(1);
    let mut dec = FrameDecoder::with_max_frame_len(1 << 20);
    let mut buf = BytesMut::new();
    let mut consumed = 0usize;
    for chunk in data.chunks(step) {
        buf.extend_from_slice(chunk);
        loop {
            let before = buf.len();
            match dec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    let taken = before - buf.len();
                    let start = consumed;
                    consumed += taken;
                    let wire = encode_to_bytes(&frame).unwrap();
                    assert_eq!(&wire[..], &data[start..consumed]);
                    let _ = Event::from_frame(&frame);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    let _ = dec.decode_eof(&mut buf);
});
