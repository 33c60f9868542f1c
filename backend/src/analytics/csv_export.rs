//! The dashboard as CSV: what is shown, one section per table, each with its own header row.

use crate::model::analytics::Dashboard;

/// Writes `dashboard`'s KPIs, series, top tools, top bases and recent errors, in that order,
/// separated by blank lines.
pub fn dashboard_csv(dashboard: &Dashboard) -> String {
    // Sections have different widths.
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    let k = &dashboard.kpis;
    let rows: Vec<Vec<String>> = {
        let mut rows = vec![
            vec!["section".into(), "kpi".into(), "value".into()],
            kpi("from_ms", dashboard.query.from_ms),
            kpi("to_ms", dashboard.query.to_ms),
            kpi("active_users", k.active_users),
            kpi("conversations", k.conversations),
            kpi("messages", k.messages),
            kpi("tool_calls", k.tool_calls),
            kpi("tokens", k.tokens),
            kpi("cost_usd", k.cost_usd),
            kpi("error_rate", k.error_rate),
            kpi("p95_latency_ms", k.p95_latency_ms),
            vec![],
            ["section", "at_ms", "messages", "tool_calls", "cost_usd", "airtable_requests", "rate_limit_waits"].map(String::from).to_vec(),
        ];
        rows.extend(dashboard.series.iter().map(|p| {
            vec![
                "series".into(),
                p.at_ms.to_string(),
                p.messages.to_string(),
                p.tool_calls.to_string(),
                p.cost_usd.to_string(),
                p.airtable_requests.to_string(),
                p.rate_limit_waits.to_string(),
            ]
        }));
        for (section, items) in [("top_tools", &dashboard.top_tools), ("top_bases", &dashboard.top_bases)] {
            rows.push(vec![]);
            rows.push(["section", "name", "count", "errors", "avg_latency_ms"].map(String::from).to_vec());
            rows.extend(items.iter().map(|t| {
                vec![section.into(), t.name.clone(), t.count.to_string(), t.errors.to_string(), t.avg_latency_ms.to_string()]
            }));
        }
        rows.push(vec![]);
        rows.push(["section", "at_ms", "kind", "name", "detail"].map(String::from).to_vec());
        rows.extend(
            dashboard.recent_errors.iter().map(|e| vec!["recent_errors".into(), e.at_ms.to_string(), e.kind.clone(), e.name.clone(), e.detail.clone()]),
        );
        rows
    };
    for row in rows {
        // Writing into memory can't fail; an empty record is a blank line between sections.
        if row.is_empty() {
            let _ = out.write_record([""]);
        } else {
            let _ = out.write_record(&row);
        }
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn kpi(name: &str, value: impl ToString) -> Vec<String> {
    vec!["kpis".into(), name.into(), value.to_string()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::analytics::{DashboardQuery, Kpis, RecentError, SeriesPoint, TopItem};

    #[test]
    fn every_section_is_written_and_text_with_commas_is_quoted() {
        let dashboard = Dashboard {
            query: DashboardQuery { from_ms: 0, to_ms: 3_600_000, all_users: false },
            bucket_ms: 3_600_000,
            kpis: Kpis { messages: 3, error_rate: 0.25, ..Kpis::default() },
            series: vec![SeriesPoint { at_ms: 0, messages: 3, ..SeriesPoint::default() }],
            top_tools: vec![TopItem { name: "list_tables".into(), count: 2, errors: 1, avg_latency_ms: 12.5 }],
            top_bases: vec![TopItem { name: "appAAAAAAAAAAAAAA".into(), count: 7, errors: 0, avg_latency_ms: 3.0 }],
            recent_errors: vec![RecentError { at_ms: 5, kind: "tool_call".into(), name: "list_records".into(), detail: "No table \"X\", sorry".into() }],
        };
        let text = dashboard_csv(&dashboard);
        assert!(text.contains("kpis,messages,3\n"), "{text}");
        assert!(text.contains("kpis,error_rate,0.25\n"), "{text}");
        assert!(text.contains("series,0,3,0,0,0,0\n"), "{text}");
        assert!(text.contains("top_tools,list_tables,2,1,12.5\n"), "{text}");
        assert!(text.contains("top_bases,appAAAAAAAAAAAAAA,7,0,3\n"), "{text}");
        assert!(text.contains("recent_errors,5,tool_call,list_records,\"No table \"\"X\"\", sorry\"\n"), "{text}");
        let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(text.as_bytes());
        assert!(reader.records().all(|r| r.is_ok()), "the output reads back as CSV");
    }
}
