//! The report in a real browser: Debian's chromium, headless, opens the
//! generated index.html from file://, and the page must run without script
//! errors and draw its timeline, nemesis timeline and logs. A screenshot is
//! kept in the test's output folder. Also: a 100,000-operation run gets a
//! report that loads, its timeline thinned and saying so.
//!
//! chromium is a real dependency of this test (scripts/setup.sh installs
//! it); without it the test fails and says which package to install.

mod report_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use report_support::{embedded_json, faultline, output_dir, write_run};

fn chromium() -> PathBuf {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "chromium not found at /usr/bin/chromium: install the Debian package `chromium` \
                 (apt-get install chromium, or run scripts/setup.sh); the report's browser test needs it"
            )
        })
}

/// What a chromium run printed.
struct Printed {
    stdout: String,
    stderr: String,
}

/// Runs headless chromium with `args`, killing it after `limit`. Output
/// goes to files (a pipe could fill up and stall chromium while we wait).
fn run_chromium(profile: &Path, args: &[String], limit: Duration) -> Printed {
    let out_path = profile.join("chromium.stdout");
    let err_path = profile.join("chromium.stderr");
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    loop {
        if child.try_wait().expect("wait on chromium").is_some() {
            return Printed {
                stdout: read(&out_path),
                stderr: read(&err_path),
            };
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish within {limit:?}; stderr: {}",
                read(&err_path)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn url(path: &Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

/// The DOM after the page's scripts ran.
fn dump_dom(profile: &Path, page: &Path) -> String {
    dump_dom_url(profile, &url(page))
}

/// The DOM of `url` after the page's scripts ran.
fn dump_dom_url(profile: &Path, url: &str) -> String {
    let out = run_chromium(
        profile,
        &[
            "--dump-dom".into(),
            "--virtual-time-budget=5000".into(),
            url.to_string(),
        ],
        Duration::from_secs(120),
    );
    assert!(
        out.stdout.contains("</html>"),
        "chromium printed no DOM; stderr: {}",
        out.stderr
    );
    out.stdout
}

/// The opening tag of the element with `id` in a DOM dump.
fn tag_of<'a>(dom: &'a str, id: &str) -> &'a str {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in the DOM"));
    let start = dom[..at].rfind('<').unwrap();
    let end = at + dom[at..].find('>').unwrap();
    &dom[start..=end]
}

/// The page's error recorder (errors.js) puts every script error and
/// console.error on the `<html>` element's `data-js-errors` attribute.
fn assert_no_script_errors(dom: &str) {
    let start = dom.find("<html").expect("an <html> element");
    let html_tag = &dom[start..start + dom[start..].find('>').unwrap()];
    assert!(
        !html_tag.contains("data-js-errors"),
        "the page recorded script errors: {html_tag}"
    );
}

fn screenshot(profile: &Path, page: &Path, png: &Path, size: &str) {
    let out = run_chromium(
        profile,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size={size}"),
            "--virtual-time-budget=5000".into(),
            url(page),
        ],
        Duration::from_secs(120),
    );
    let bytes = std::fs::read(png).unwrap_or_else(|e| {
        panic!(
            "no screenshot at {} ({e}); stderr: {}",
            png.display(),
            out.stderr
        )
    });
    assert!(
        bytes.starts_with(b"\x89PNG"),
        "{} is not a PNG",
        png.display()
    );
    println!("screenshot: {}", png.display());
}

#[test]
fn report_renders_in_headless_chromium_without_errors() {
    let root = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let run = write_run(root.path(), 600, 6);
    let out = faultline(&["report", run.dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1), // the synthetic run is invalid
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = run.dir.join("index.html");

    let dom = dump_dom(profile.path(), &page);
    assert_no_script_errors(&dom);
    assert!(
        tag_of(&dom, "timeline-canvas").contains("data-rendered=\"1\""),
        "timeline not drawn"
    );
    assert!(tag_of(&dom, "timeline-canvas").contains("data-ops=\"600\""));
    assert!(
        tag_of(&dom, "nemesis-canvas").contains("data-rendered=\"1\""),
        "nemesis timeline not drawn"
    );
    assert!(
        tag_of(&dom, "log-table").contains("data-rendered=\"1\""),
        "logs not rendered"
    );
    assert!(
        dom.contains("data-report-ready=\"1\""),
        "the page script did not finish"
    );
    // `?op=N` selects an operation and highlights the log lines of its time.
    // (The slowest operation: node logs have a line every 20-60 ms.)
    let op = run.ops.iter().max_by_key(|o| o.end - o.start).unwrap();
    let linked = dump_dom_url(
        profile.path(),
        &format!("{}?op={}", url(&page), op.invoke_index),
    );
    assert_no_script_errors(&linked);
    assert!(
        linked.contains("class=\"hit\""),
        "no log line highlighted for op {}",
        op.invoke_index
    );
    assert!(linked.contains(&format!("history index {}", op.invoke_index)));
    // Log lines were rendered as text: the hostile line is inert.
    assert!(dom.contains("&lt;script&gt;alert(2)&lt;/script&gt;"));
    assert!(!dom.contains("<script>alert"));

    let shots = output_dir("browser");
    screenshot(
        profile.path(),
        &page,
        &shots.join("report.png"),
        "1400,2000",
    );

    let index = run.store.join("index.html");
    let dom = dump_dom(profile.path(), &index);
    assert_no_script_errors(&dom);
    assert!(dom.contains("register-kill"));
    screenshot(
        profile.path(),
        &index,
        &shots.join("store-index.png"),
        "1400,600",
    );
}

#[test]
fn a_100k_operation_report_is_generated_and_loads() {
    let root = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let run = write_run(root.path(), 100_000, 40);
    let started = Instant::now();
    let out = faultline(&["report", run.dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1), // the synthetic run is invalid
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "report of 100,000 operations written in {:?}",
        started.elapsed()
    );
    let page = run.dir.join("index.html");
    let dom = dump_dom(profile.path(), &page);
    assert_no_script_errors(&dom);
    assert!(tag_of(&dom, "timeline-canvas").contains("data-rendered=\"1\""));
    // The timeline holds the operations the page embeds, of 100,000.
    let html = std::fs::read_to_string(&page).unwrap();
    let timeline = embedded_json(&html, "timeline-data");
    let shown =
        timeline["ops"].as_array().unwrap().len() / timeline["stride"].as_u64().unwrap() as usize;
    assert!(shown < 100_000);
    let canvas = tag_of(&dom, "timeline-canvas");
    assert!(
        canvas.contains(&format!("data-ops=\"{shown}\"")),
        "{canvas}"
    );
    assert!(canvas.contains("data-total-ops=\"100000\""), "{canvas}");
    assert!(
        dom.contains("id=\"timeline-note\""),
        "the page says the timeline is thinned"
    );
    assert!(tag_of(&dom, "log-table").contains("data-rendered=\"1\""));
    // `?op=N` for an operation left off the timeline says where to find it.
    let embedded: std::collections::HashSet<u64> = timeline["ops"]
        .as_array()
        .unwrap()
        .chunks(timeline["stride"].as_u64().unwrap() as usize)
        .map(|op| op[7].as_u64().unwrap())
        .collect();
    let missing = run
        .ops
        .iter()
        .find(|o| !embedded.contains(&o.invoke_index))
        .unwrap();
    let linked = dump_dom_url(
        profile.path(),
        &format!("{}?op={}", url(&page), missing.invoke_index),
    );
    assert_no_script_errors(&linked);
    assert!(
        linked.contains(&format!(
            "No operation invoked at history index {} on this timeline (it holds {shown} of the run's 100000 operations); find it in history.csv",
            missing.invoke_index
        )),
        "no message for an operation left off the timeline"
    );
    // Worker lanes (process mod concurrency) fold the processes into 40 lanes.
    let workers = dump_dom_url(profile.path(), &format!("{}?lanes=worker", url(&page)));
    assert_no_script_errors(&workers);
    assert!(tag_of(&workers, "timeline-canvas").contains("data-lanes=\"40\""));
    screenshot(
        profile.path(),
        &page,
        &output_dir("browser-100k").join("report.png"),
        "1400,2000",
    );
}
