//! Assembles a message from parsed SSE events the way the Anthropic Python SDK's
//! `accumulate_event` does, to check that the fold equals what a client builds from the stream.
//!
//! One difference: the SDK re-parses tool input in partial mode after every fragment, so a
//! truncated input becomes a partial object there; here an unparsable buffer leaves the `{}` of
//! `content_block_start`, which is also what the fold reports.

use serde_json::Value;

/// Assembles the message as the Anthropic Python SDK's `accumulate_event` does.
pub fn accumulate(events: &[(String, Value)]) -> Value {
    let mut snapshot: Option<Value> = None;
    let mut json_bufs: Vec<String> = Vec::new();
    for (name, data) in events {
        if name == "ping" {
            continue;
        }
        if snapshot.is_none() {
            assert_eq!(name, "message_start");
            snapshot = Some(data["message"].clone());
            continue;
        }
        let msg = snapshot.as_mut().expect("snapshot");
        match name.as_str() {
            "content_block_start" => {
                msg["content"]
                    .as_array_mut()
                    .expect("content")
                    .push(data["content_block"].clone());
                json_bufs.push(String::new());
            }
            "content_block_delta" => {
                let index = data["index"].as_u64().expect("index") as usize;
                let block = &mut msg["content"][index];
                let delta = &data["delta"];
                match delta["type"].as_str().expect("delta type") {
                    "text_delta" => append(&mut block["text"], &delta["text"]),
                    "thinking_delta" => append(&mut block["thinking"], &delta["thinking"]),
                    "signature_delta" => block["signature"] = delta["signature"].clone(),
                    "input_json_delta" => {
                        json_bufs[index]
                            .push_str(delta["partial_json"].as_str().expect("partial_json"));
                        if let Ok(v) = serde_json::from_str::<Value>(&json_bufs[index]) {
                            block["input"] = v;
                        }
                    }
                    other => panic!("unknown delta {other}"),
                }
            }
            "message_delta" => {
                msg["stop_reason"] = data["delta"]["stop_reason"].clone();
                msg["stop_sequence"] = data["delta"]["stop_sequence"].clone();
                let usage = &data["usage"];
                msg["usage"]["output_tokens"] = usage["output_tokens"].clone();
                for key in [
                    "input_tokens",
                    "cache_creation_input_tokens",
                    "cache_read_input_tokens",
                ] {
                    if !usage[key].is_null() {
                        msg["usage"][key] = usage[key].clone();
                    }
                }
            }
            "content_block_stop" | "message_stop" => {}
            other => panic!("unexpected event {other}"),
        }
    }
    snapshot.expect("message_start")
}

fn append(target: &mut Value, more: &Value) {
    let joined = format!(
        "{}{}",
        target.as_str().expect("string"),
        more.as_str().expect("string")
    );
    *target = Value::String(joined);
}
