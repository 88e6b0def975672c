//! Tool calls as the service streams them (spec §7.2): an opening `toolUseEvent` with `name`
//! and `toolUseId` and no `input`, string fragments repeating both, then `stop: true`; the
//! object-`input` variant; and interleaved calls.

use crate::answer;
use crate::render::RenderCtx;
use crate::script::ToolCall;
use crate::writer::StreamWriter;

pub fn next_tool_id(ctx: &RenderCtx<'_>, tools: &mut usize) -> String {
    let id = answer::tool_use_id(ctx.seed, ctx.conversation_id, ctx.user_text, *tools);
    *tools += 1;
    id
}

fn tool_input_text(call: &ToolCall) -> String {
    call.input_raw
        .clone()
        .unwrap_or_else(|| call.input.to_string())
}

pub fn render_tool(w: &mut StreamWriter, call: &ToolCall, ctx: &RenderCtx<'_>, tools: &mut usize) {
    let generated = next_tool_id(ctx, tools);
    let id = call.id.as_deref().unwrap_or(&generated);
    w.tool_start(&call.name, id);
    if call.object_input {
        w.tool_object(&call.name, id, &call.input);
        if call.stop {
            w.tool_stop(&call.name, id);
        }
        return;
    }
    let input = tool_input_text(call);
    let pieces = answer::byte_pieces(&input, call.fragment_bytes.unwrap_or(32));
    let last = pieces.len().saturating_sub(1);
    for (i, frag) in pieces.iter().enumerate() {
        let stop_here = call.stop && call.stop_with_input && i == last;
        w.tool_fragment(&call.name, id, frag, stop_here);
    }
    if call.stop && (!call.stop_with_input || pieces.is_empty()) {
        w.tool_stop(&call.name, id);
    }
}

pub fn render_interleaved(
    w: &mut StreamWriter,
    calls: &[ToolCall],
    ctx: &RenderCtx<'_>,
    tools: &mut usize,
) {
    let ids: Vec<String> = calls
        .iter()
        .map(|c| {
            let generated = next_tool_id(ctx, tools);
            c.id.clone().unwrap_or(generated)
        })
        .collect();
    let inputs: Vec<String> = calls.iter().map(tool_input_text).collect();
    let pieces: Vec<Vec<&str>> = calls
        .iter()
        .zip(&inputs)
        .map(|(c, i)| answer::byte_pieces(i, c.fragment_bytes.unwrap_or(16)))
        .collect();
    for (c, id) in calls.iter().zip(&ids) {
        w.tool_start(&c.name, id);
    }
    let rounds = pieces.iter().map(Vec::len).max().unwrap_or(0);
    for r in 0..rounds {
        for ((c, id), p) in calls.iter().zip(&ids).zip(&pieces) {
            if let Some(frag) = p.get(r) {
                w.tool_fragment(&c.name, id, frag, false);
            }
        }
    }
    for (c, id) in calls.iter().zip(&ids) {
        if c.stop {
            w.tool_stop(&c.name, id);
        }
    }
}
