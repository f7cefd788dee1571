//! The kvnode log line format: every line carries a timestamp, the node id,
//! and the node's current role and term (read from the live status), then
//! the level, target and fields:
//!
//! `2024-05-01T10:00:00.123456Z node=2 role=leader term=3 INFO faultline_kvnode::node: role changed ...`

use std::fmt;
use std::sync::Arc;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use super::status::{LiveStatus, role_name};

/// Formats events with the node's identity, role and term.
pub struct NodeLogFormat {
    pub live: Arc<LiveStatus>,
}

impl<S, N> FormatEvent<S, N> for NodeLogFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        SystemTime.format_time(&mut writer)?;
        let meta = event.metadata();
        write!(
            writer,
            " node={} role={} term={} {} {}: ",
            self.live.id(),
            role_name(self.live.role()),
            self.live.term(),
            meta.level(),
            meta.target()
        )?;
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
