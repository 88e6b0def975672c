#![expect(
    clippy::print_stderr,
    reason = "the bench reports the shape of its stream"
)]

//! Decoder throughput over a realistic `generateAssistantResponse` stream.
//!
//! Run: `cargo bench -p kiro-wire --bench decoder`
//!
//! The stream: 3,000 text chunks of 1–40 characters (mixed ASCII, accented and CJK text), one
//! Claude Code style `Write` tool call in 400 input fragments, and the usual tail events, fed to
//! the decoder in 4 KiB reads as they would come off a socket. Compared in the same run:
//! - `bound_copy_crc`: copying each read into the buffer and CRC-ing every byte once — the memory
//!   and CRC floor that any validating decoder pays;
//! - `kiro_wire_frames`: our [`FrameDecoder`] (both CRCs, all header checks, zero-copy frames);
//! - `kiro_wire_events`: the same plus typed [`Event`] parsing of every payload (JSON);
//! - `aws_smithy_frames`: `aws-smithy-eventstream`'s `MessageFrameDecoder` on the same reads.

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use kiro_wire::event::{
    AssistantResponseEvent, ContextUsageEvent, Event, MetadataEvent, MeteringEvent, TokenUsage,
    ToolInput, ToolUseEvent,
};
use kiro_wire::{FrameDecoder, encode};

const READ_SIZE: usize = 4096;

fn realistic_stream() -> (Bytes, usize) {
    let words = [
        "The ",
        "function ",
        "returns ",
        "a ",
        "Result",
        "; ",
        "café ",
        "naïve ",
        "我们",
        "使用",
        "tokio::",
        "select! ",
        "\n\n```rust\n",
        "fn main() {\n",
        "    let x = 42;\n",
        "}\n```\n",
        "so ",
        "that ",
        "errors ",
        "propagate.",
    ];
    let mut events = Vec::new();
    let mut seed: u32 = 12345;
    let mut next = || {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (seed >> 16) as usize
    };
    for _ in 0..3000 {
        let mut content = String::new();
        for _ in 0..(1 + next() % 3) {
            content.push_str(words[next() % words.len()]);
        }
        events.push(Event::AssistantResponse(AssistantResponseEvent { content }));
    }
    let id = "tooluse_1DCqyICMR-CfTS36UNNiwA".to_owned();
    events.push(Event::ToolUse(ToolUseEvent {
        tool_use_id: id.clone(),
        name: "Write".into(),
        input: None,
        stop: false,
    }));
    for i in 0..400 {
        events.push(Event::ToolUse(ToolUseEvent {
            tool_use_id: id.clone(),
            name: "Write".into(),
            input: Some(ToolInput::Fragment(format!(
                "line {i}: let v = compute(\\\"x\\\");\\n"
            ))),
            stop: false,
        }));
    }
    events.push(Event::ToolUse(ToolUseEvent {
        tool_use_id: id,
        name: "Write".into(),
        input: None,
        stop: true,
    }));
    events.push(Event::Metadata(MetadataEvent {
        token_usage: Some(TokenUsage {
            uncached_input_tokens: Some(1200),
            cache_read_input_tokens: Some(40_000),
            cache_write_input_tokens: Some(0),
            output_tokens: Some(9000),
            total_tokens: Some(50_200),
            ..Default::default()
        }),
    }));
    events.push(Event::Metering(MeteringEvent {
        unit: Some("credit".into()),
        unit_plural: Some("credits".into()),
        usage: 0.0169543708291874,
    }));
    events.push(Event::ContextUsage(ContextUsageEvent {
        context_usage_percentage: 61.49,
    }));
    let mut wire = BytesMut::new();
    for e in &events {
        encode(&e.to_frame(), &mut wire).unwrap_or_default();
    }
    (wire.freeze(), events.len())
}

fn bench(c: &mut Criterion) {
    let (wire, frames) = realistic_stream();
    eprintln!(
        "stream: {} frames, {} bytes, {:.1} bytes/frame",
        frames,
        wire.len(),
        wire.len() as f64 / frames as f64
    );
    for (group_name, throughput) in [
        ("decode_bytes", Throughput::Bytes(wire.len() as u64)),
        ("decode_frames", Throughput::Elements(frames as u64)),
    ] {
        let mut g = c.benchmark_group(group_name);
        g.throughput(throughput);

        g.bench_function("bound_copy_crc", |b| {
            b.iter(|| {
                let mut buf = BytesMut::with_capacity(READ_SIZE * 2);
                let mut h = crc32fast::Hasher::new();
                for chunk in wire.chunks(READ_SIZE) {
                    buf.extend_from_slice(chunk);
                    h.update(&buf);
                    buf.clear();
                }
                black_box(h.finalize())
            })
        });

        g.bench_function("kiro_wire_frames", |b| {
            b.iter(|| {
                let mut dec = FrameDecoder::new();
                let mut buf = BytesMut::with_capacity(READ_SIZE * 2);
                let mut n = 0usize;
                for chunk in wire.chunks(READ_SIZE) {
                    buf.extend_from_slice(chunk);
                    while let Ok(Some(f)) = dec.decode(&mut buf) {
                        n += f.payload.len();
                    }
                }
                black_box(n)
            })
        });

        g.bench_function("kiro_wire_events", |b| {
            b.iter(|| {
                let mut dec = FrameDecoder::new();
                let mut buf = BytesMut::with_capacity(READ_SIZE * 2);
                let mut n = 0usize;
                for chunk in wire.chunks(READ_SIZE) {
                    buf.extend_from_slice(chunk);
                    while let Ok(Some(f)) = dec.decode(&mut buf) {
                        if let Ok(Event::AssistantResponse(a)) = Event::from_frame(&f) {
                            n += a.content.len();
                        }
                    }
                }
                black_box(n)
            })
        });

        g.bench_function("aws_smithy_frames", |b| {
            use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
            b.iter(|| {
                let mut dec = MessageFrameDecoder::new();
                let mut buf = BytesMut::with_capacity(READ_SIZE * 2);
                let mut n = 0usize;
                for chunk in wire.chunks(READ_SIZE) {
                    buf.extend_from_slice(chunk);
                    while let Ok(DecodedFrame::Complete(m)) = dec.decode_frame(&mut buf) {
                        n += m.payload().len();
                    }
                }
                black_box(n)
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
