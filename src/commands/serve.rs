//! `faultline serve [--store DIR] [--addr 127.0.0.1:PORT]`: serves the
//! store folder read-only over HTTP for browsing reports. Only GET and
//! HEAD; only files under the store (see `faultline_reports::static_files`).

use std::io::Write;

use anyhow::{Context, Result, anyhow};
use faultline_reports::static_files::{Resolved, content_type, resolve};
use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

use crate::cli::ServeArgs;

/// Serves until the process is stopped (Ctrl-C).
pub fn run(args: &ServeArgs) -> Result<u8> {
    let root = args.store.canonicalize().with_context(|| {
        format!(
            "store folder {} not found: pass --store DIR (the folder `faultline run` writes to)",
            args.store.display()
        )
    })?;
    if !root.is_dir() {
        return Err(anyhow!("{} is not a folder", root.display()));
    }
    let server = Server::http(&args.addr).map_err(|e| {
        anyhow!(
            "cannot listen on {}: {e} (try another --addr 127.0.0.1:PORT)",
            args.addr
        )
    })?;
    let url = match server.server_addr().to_ip() {
        Some(addr) => format!("http://{addr}/"),
        None => format!("http://{}/", args.addr),
    };
    println!("serving {} at {url}  (Ctrl-C to stop)", root.display());
    std::io::stdout().flush().ok();
    for request in server.incoming_requests() {
        if let Err(e) = respond(&root, request) {
            tracing::warn!(error = %e, "failed to answer a request");
        }
    }
    Ok(super::EXIT_VALID)
}

fn respond(root: &std::path::Path, request: Request) -> std::io::Result<()> {
    if !matches!(request.method(), Method::Get | Method::Head) {
        return request.respond(text(405, "only GET and HEAD are served"));
    }
    let resolved = resolve(root, request.url());
    tracing::debug!(url = request.url(), ?resolved, "request");
    match resolved {
        Resolved::File(path) => match std::fs::File::open(&path) {
            Ok(file) => {
                let response = Response::from_file(file)
                    .with_header(header("Content-Type", content_type(&path)));
                request.respond(response)
            }
            Err(_) => request.respond(text(404, "not found")),
        },
        Resolved::Redirect(location) => {
            request.respond(text(301, "moved").with_header(header("Location", &location)))
        }
        Resolved::NotFound => request.respond(text(404, "not found")),
        Resolved::Forbidden => request.respond(text(403, "forbidden: outside the store")),
    }
}

fn text(code: u16, body: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_string(body)
        .with_status_code(StatusCode(code))
        .with_header(header("Content-Type", "text/plain; charset=utf-8"))
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("ASCII header")
}
