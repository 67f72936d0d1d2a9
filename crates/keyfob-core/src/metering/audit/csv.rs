//! CSV export of the audit log (RFC 4180, CRLF): one row per request record and per
//! daily total, cells defused against spreadsheet formula injection.

use super::{AuditFilter, AuditLedger, Totals};
use crate::metering::calendar::{civil_from_days, iso_date};

impl AuditLedger {
    /// The records and daily totals passing `filter`, as CSV (RFC 4180, CRLF).
    pub fn export_csv(&self, filter: &AuditFilter) -> String {
        let mut out = String::from(CSV_HEADER);
        out.push_str("\r\n");
        for r in self.records.iter().filter(|r| filter.matches(r)) {
            let mut t = Totals::default();
            t.add_record(r);
            let context = r
                .note
                .context
                .as_ref()
                .map(|c| serde_json::to_string(c).unwrap_or_default());
            push_row(
                &mut out,
                &cells(
                    [
                        "request".into(),
                        iso_date((r.time_ms / 86_400_000) as i64),
                        iso_time(r.time_ms),
                        r.origin.clone(),
                        routed_cell(&r.provider, r.routed.as_ref().map(|x| x.provider.as_str())),
                        routed_cell(
                            r.model.as_deref().unwrap_or_default(),
                            r.routed
                                .as_ref()
                                .map(|x| x.model.as_deref().unwrap_or_default()),
                        ),
                        r.path.clone(),
                        r.status.to_string(),
                        r.error_code.clone().unwrap_or_default(),
                    ],
                    &t,
                    [
                        r.cost_nano_usd
                            .map(crate::metering::usd_decimal)
                            .unwrap_or_default(),
                        t.unpriced_requests.to_string(),
                        r.duration_ms.to_string(),
                        r.usage_complete.to_string(),
                        r.note.reason.clone().unwrap_or_default(),
                        context.unwrap_or_default(),
                    ],
                ),
            );
        }
        for d in self.daily.iter().filter(|d| filter.matches_daily(d)) {
            let t = &d.totals;
            push_row(
                &mut out,
                &cells(
                    [
                        "daily".into(),
                        iso_date(d.day),
                        String::new(),
                        d.origin.clone(),
                        d.provider.clone(),
                        d.model.clone().unwrap_or_default(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ],
                    t,
                    [
                        crate::metering::usd_decimal(t.cost_nano_usd),
                        t.unpriced_requests.to_string(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ],
                ),
            );
        }
        out
    }
}

/// The CSV columns, in order.
pub const CSV_HEADER: &str = "kind,date,time_utc,origin,provider,model,path,status,error_code,\
requests,errors,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_usd,\
unpriced_requests,duration_ms,usage_complete,reason,context";

/// A requested value, and for a routed record `requested->served`.
fn routed_cell(requested: &str, served: Option<&str>) -> String {
    match served {
        Some(served) => format!("{requested}->{served}"),
        None => requested.to_string(),
    }
}

/// One CSV row: the leading cells, the request/token counts of `t`, the trailing cells.
fn cells<const A: usize, const B: usize>(
    lead: [String; A],
    t: &Totals,
    tail: [String; B],
) -> Vec<String> {
    let counts = [
        t.requests,
        t.errors,
        t.input_tokens,
        t.output_tokens,
        t.cache_read_tokens,
        t.cache_write_tokens,
    ];
    lead.into_iter()
        .chain(counts.iter().map(u64::to_string))
        .chain(tail)
        .collect()
}

fn push_row(out: &mut String, cells: &[String]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_cell(cell));
    }
    out.push_str("\r\n");
}

/// One CSV cell: quoted when needed, and defused when a spreadsheet would read it as a
/// formula (`=`, `+`, `-`, `@`, tab or CR first).
fn csv_cell(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn iso_time(ms: u64) -> String {
    let day = (ms / 86_400_000) as i64;
    let (y, m, d) = civil_from_days(day);
    let in_day = ms % 86_400_000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("-1+2"), "'-1+2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }
}
