//! Tag-emulated thinking (spec §4.4): the model writes `<thinking>…</thinking>` at the start of
//! its text, and the reply splits it out as thinking.
//!
//! Parsed incrementally, since tags are split across chunks anywhere. Only a *leading* block
//! counts (after optional whitespace): a `<thinking>` later in the answer is the model talking
//! about tags, and stays text. What is held back is only what could still turn out to be a tag:
//! leading whitespace plus a partial `<thinking>`, or a partial `</thinking>` inside the block.

const OPEN: &str = "<thinking>";
const CLOSE: &str = "</thinking>";

/// A piece of the text stream after splitting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Thinking(String),
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing but whitespace seen yet: the block may still open.
    Leading,
    InThinking,
    /// Just after `</thinking>`: the whitespace separating it from the answer is dropped.
    AfterThinking,
    Passthrough,
}

#[derive(Debug)]
pub(crate) struct TagSplitter {
    state: State,
    held: String,
}

impl Default for TagSplitter {
    fn default() -> Self {
        TagSplitter {
            state: State::Leading,
            held: String::new(),
        }
    }
}

/// Length of the longest suffix of `s` that is a proper, non-empty prefix of `tag`, on a char
/// boundary.
fn partial_tag_suffix(s: &str, tag: &str) -> usize {
    let start_min = s.len().saturating_sub(tag.len() - 1);
    (start_min..s.len())
        .filter(|&i| s.is_char_boundary(i))
        .find(|&i| tag.starts_with(&s[i..]))
        .map_or(0, |i| s.len() - i)
}

impl TagSplitter {
    /// Splits one text chunk, appending finished pieces to `out`.
    pub fn push(&mut self, chunk: &str, out: &mut Vec<Piece>) {
        let mut input = chunk.to_owned();
        loop {
            match self.state {
                State::Passthrough => {
                    push_piece(out, Piece::Text(input));
                    return;
                }
                State::Leading => {
                    self.held.push_str(&input);
                    let trimmed = self.held.trim_start();
                    if trimmed.is_empty() || (OPEN.starts_with(trimmed) && trimmed != OPEN) {
                        return;
                    }
                    if let Some(rest) = trimmed.strip_prefix(OPEN) {
                        input = rest.to_owned();
                        self.held.clear();
                        self.state = State::InThinking;
                        continue;
                    }
                    self.state = State::Passthrough;
                    push_piece(out, Piece::Text(std::mem::take(&mut self.held)));
                    return;
                }
                State::InThinking => {
                    let mut s = std::mem::take(&mut self.held);
                    s.push_str(&input);
                    if let Some(p) = s.find(CLOSE) {
                        push_piece(out, Piece::Thinking(s[..p].to_owned()));
                        input = s[p + CLOSE.len()..].to_owned();
                        self.state = State::AfterThinking;
                        continue;
                    }
                    let keep = partial_tag_suffix(&s, CLOSE);
                    self.held = s.split_off(s.len() - keep);
                    push_piece(out, Piece::Thinking(s));
                    return;
                }
                State::AfterThinking => {
                    let rest = input.trim_start();
                    if !rest.is_empty() {
                        self.state = State::Passthrough;
                        push_piece(out, Piece::Text(rest.to_owned()));
                    }
                    return;
                }
            }
        }
    }

    /// Releases what is held back (before a tool call, or at the end of the reply). Leading
    /// text that never became a tag is text; an unclosed block's tail is thinking. Thinking can
    /// only lead, so everything after a flush is text.
    pub fn flush(&mut self, out: &mut Vec<Piece>) {
        let held = std::mem::take(&mut self.held);
        match self.state {
            State::Leading => push_piece(out, Piece::Text(held)),
            State::InThinking => push_piece(out, Piece::Thinking(held)),
            State::AfterThinking | State::Passthrough => {}
        }
        self.state = State::Passthrough;
    }
}

fn push_piece(out: &mut Vec<Piece>, piece: Piece) {
    let empty = match &piece {
        Piece::Thinking(s) | Piece::Text(s) => s.is_empty(),
    };
    if !empty {
        out.push(piece);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&str]) -> Vec<Piece> {
        let mut t = TagSplitter::default();
        let mut out = Vec::new();
        for c in chunks {
            t.push(c, &mut out);
        }
        t.flush(&mut out);
        out
    }

    #[test]
    fn leading_block_is_split_out() {
        assert_eq!(
            run(&["<thinking>plan</thinking>\n\nAnswer"]),
            vec![Piece::Thinking("plan".into()), Piece::Text("Answer".into())]
        );
    }

    #[test]
    fn later_tags_stay_text() {
        assert_eq!(
            run(&["Use ", "<thinking>x</thinking>"]),
            vec![
                Piece::Text("Use ".into()),
                Piece::Text("<thinking>x</thinking>".into())
            ]
        );
    }

    #[test]
    fn only_possible_tag_bytes_are_held() {
        let mut t = TagSplitter::default();
        let mut out = Vec::new();
        t.push("<thinking>abc</thi", &mut out);
        assert_eq!(out, vec![Piece::Thinking("abc".into())]);
        out.clear();
        t.push("nk about it", &mut out);
        assert_eq!(out, vec![Piece::Thinking("</think about it".into())]);
    }

    #[test]
    fn partial_open_tag_then_other_text() {
        assert_eq!(
            run(&["  <thin", "gs"]),
            vec![Piece::Text("  <things".into())]
        );
    }

    #[test]
    fn unclosed_block_is_thinking() {
        assert_eq!(
            run(&["<thinking>abc</thin"]),
            vec![
                Piece::Thinking("abc".into()),
                Piece::Thinking("</thin".into())
            ]
        );
    }
}
