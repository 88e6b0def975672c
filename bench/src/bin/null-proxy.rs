//! The calibration baseline of PERFORMANCE.md: a pass-through HTTP/1.1 proxy that parses nothing
//! and converts nothing. Requests go to `--upstream` unchanged (path included) over pooled
//! keep-alive connections; response bodies stream back frame by frame.
//!
//! `null-proxy --port 7000 --upstream 127.0.0.1:9000`

use std::convert::Infallible;

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value_t = 7000)]
    port: u16,
    /// host:port of the upstream.
    #[arg(long)]
    upstream: String,
}

type Body = BoxBody<Bytes, hyper::Error>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<HttpConnector, Incoming> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(1024)
        .build(connector);
    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    let upstream: &'static str = Box::leak(args.upstream.into_boxed_str());
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let client = client.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<Incoming>| {
                let client = client.clone();
                async move { Ok::<_, Infallible>(forward(client, upstream, req).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

async fn forward(
    client: Client<HttpConnector, Incoming>,
    upstream: &str,
    mut req: Request<Incoming>,
) -> Response<Body> {
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let uri = format!("http://{upstream}{path}");
    match uri.parse() {
        Ok(uri) => *req.uri_mut() = uri,
        Err(_) => return bad_gateway(),
    }
    match client.request(req).await {
        Ok(resp) => resp.map(|b| b.boxed()),
        Err(_) => bad_gateway(),
    }
}

fn bad_gateway() -> Response<Body> {
    let mut r = Response::new(
        http_body_util::Empty::<Bytes>::new()
            .map_err(|never| match never {})
            .boxed(),
    );
    *r.status_mut() = hyper::StatusCode::BAD_GATEWAY;
    r
}
