//! `kiro-proxy search` and `kiro-proxy tools`: the upstream's MCP tools from a terminal, over
//! the accounts of the data directory (no running server needed). Results go to stdout,
//! progress and problems to stderr; a failure exits non-zero with the reason.

use std::io::Write;

use anyhow::Context;
use kiro_proxy::admin::{CallAnswer, SearchAnswer, ToolList, UpstreamTools};
use kiro_proxy::{Config, ServeArgs};
use serde_json::Value;

/// What `kiro-proxy tools` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ToolsAction {
    /// List the upstream's tools and their arguments.
    List,
    /// Call a tool: `tools call NAME '{"arg": …}'`.
    Call,
}

/// The tools engine over the data directory's accounts, and its store (to close at the end).
async fn open(args: &ServeArgs) -> anyhow::Result<(UpstreamTools, kiro_proxy::store::Store)> {
    let (config, store): (Config, _) = super::open_store(args).await?;
    let upstream = super::upstream_client(&config)?;
    let tools = UpstreamTools::from_store(&config, &store, upstream)
        .await
        .context("cannot read the accounts")?;
    Ok((tools, store))
}

pub async fn search(query: &str, max: u32, args: ServeArgs) -> anyhow::Result<()> {
    let (tools, store) = open(&args).await?;
    let answer = tools.web_search(query, max).await;
    store.close().await;
    let answer = answer.context("web search failed")?;
    print_search(&answer)
}

pub async fn tools(
    action: ToolsAction,
    name: Option<&str>,
    arguments: Option<&str>,
    args: ServeArgs,
) -> anyhow::Result<()> {
    // Checked before the store is opened: a typo costs nothing.
    let call = match action {
        ToolsAction::List => None,
        ToolsAction::Call => {
            let name = name.context("`tools call` needs a tool name (see `tools list`)")?;
            let arguments = arguments.map(parse_arguments).transpose()?;
            Some((name, arguments))
        }
    };
    let (tools, store) = open(&args).await?;
    let result = match call {
        None => tools.list().await.map(Done::List),
        Some((name, arguments)) => tools.call(name, arguments).await.map(Done::Call),
    };
    store.close().await;
    match result.context("MCP call failed")? {
        Done::List(list) => print_list(&list),
        Done::Call(answer) => print_call(&answer),
    }
}

enum Done {
    List(ToolList),
    Call(CallAnswer),
}

fn parse_arguments(text: &str) -> anyhow::Result<Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => anyhow::bail!("the arguments must be a JSON object, e.g. '{{\"query\": \"…\"}}'"),
        Err(e) => anyhow::bail!(
            "the arguments are not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ),
    }
}

/// `YYYY-MM-DD` of Unix seconds.
fn date(secs: i64) -> String {
    let (y, m, d) = kiro_wire::num::civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

fn print_search(answer: &SearchAnswer) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for (i, r) in answer.results.iter().enumerate() {
        let title = if r.title.trim().is_empty() {
            "(untitled)"
        } else {
            r.title.trim()
        };
        writeln!(out, "{}. {title}", i + 1)?;
        writeln!(out, "   {}", r.url)?;
        let mut meta = r.domain.clone();
        if let Some(d) = r.published_date {
            meta = format!("{meta} · {}", date(d));
        }
        if !meta.is_empty() {
            writeln!(out, "   {meta}")?;
        }
        if !r.snippet.trim().is_empty() {
            writeln!(out, "   {}", r.snippet.trim())?;
        }
        writeln!(out)?;
    }
    out.flush()?;
    writeln!(
        std::io::stderr(),
        "{} result(s) of {} (served by account {}).",
        answer.results.len(),
        answer.total_results,
        answer.account
    )?;
    Ok(())
}

fn print_list(list: &ToolList) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for tool in &list.tools {
        writeln!(out, "{}", tool.name)?;
        if let Some(d) = tool.description.as_deref().filter(|d| !d.trim().is_empty()) {
            writeln!(out, "    {}", d.trim())?;
        }
        let arguments = schema_summary(tool.input_schema.as_ref());
        if !arguments.is_empty() {
            writeln!(out, "    arguments: {arguments}")?;
        }
    }
    out.flush()?;
    writeln!(
        std::io::stderr(),
        "{} tool(s) (served by account {}).",
        list.tools.len(),
        list.account
    )?;
    Ok(())
}

/// `query (string, required), maxResults (integer)` of a JSON Schema's properties.
fn schema_summary(schema: Option<&Value>) -> String {
    let Some(props) = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    else {
        return String::new();
    };
    let required: Vec<&str> = schema
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    props
        .iter()
        .map(|(name, p)| {
            let kind = p.get("type").and_then(Value::as_str).unwrap_or("any");
            if required.contains(&name.as_str()) {
                format!("{name} ({kind}, required)")
            } else {
                format!("{name} ({kind})")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_call(answer: &CallAnswer) -> anyhow::Result<()> {
    let mut text = String::new();
    for item in &answer.content {
        let shown = match (item.get("type").and_then(Value::as_str), item.get("text")) {
            (Some("text"), Some(Value::String(t))) => match serde_json::from_str::<Value>(t) {
                // JSON inside the text (web search results): pretty-printed.
                Ok(v @ (Value::Object(_) | Value::Array(_))) => {
                    serde_json::to_string_pretty(&v).unwrap_or_else(|_| t.clone())
                }
                _ => t.clone(),
            },
            _ => serde_json::to_string_pretty(item).unwrap_or_default(),
        };
        text.push_str(&shown);
        text.push('\n');
    }
    if answer.is_error {
        anyhow::bail!(
            "the tool reported an error (account {}): {}",
            answer.account,
            text.trim()
        );
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    writeln!(std::io::stderr(), "(served by account {})", answer.account)?;
    Ok(())
}
