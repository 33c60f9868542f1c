//! The demo base every new sandbox starts with: a product launch, with its team, customers,
//! tasks and milestones linked together (about 120 records).
//!
//! It is built through the sandbox's own API operations, so it obeys every rule a user's writes do.

use serde_json::{Value, json};

use super::{Sandbox, SandboxError, WriteRequest};
use crate::auth::UserId;
use crate::model::airtable::{Fields, NewTable, Record};

pub const DEMO_BASE_NAME: &str = "Product launch (demo)";

const TEAM: [(&str, &str, u32, bool); 12] = [
    ("Ada Okafor", "Product", 40, false),
    ("Bruno Silva", "Engineering", 38, true),
    ("Chloé Martin", "Design", 32, true),
    ("Dev Patel", "Engineering", 40, false),
    ("Elif Yılmaz", "Marketing", 36, true),
    ("Farah Haddad", "Sales", 40, false),
    ("Gustav Lindqvist", "Engineering", 30, true),
    ("Hana Sato", "Support", 40, false),
    ("Ibrahim Diallo", "Sales", 35, true),
    ("Julia Nowak", "Marketing", 40, false),
    ("Kofi Mensah", "Engineering", 40, true),
    ("Lena Fischer", "Product", 24, true),
];

const COMPANIES: [&str; 30] = [
    "Northwind Traders", "Bluebird Logistics", "Cedar & Pine Studio", "Helios Energy", "Kestrel Analytics",
    "Lumen Health", "Marlow Books", "Nimbus Cloudworks", "Orchid Hotels", "Pioneer Robotics",
    "Quarry Coffee", "Riverside Clinic", "Saffron Kitchens", "Tidewater Marine", "Umbra Security",
    "Vantage Realty", "Willow Schools", "Xylo Music", "Yarrow Gardens", "Zephyr Airlines",
    "Atlas Freight", "Beacon Legal", "Copperleaf Finance", "Driftwood Outdoors", "Ember Games",
    "Fjord Fisheries", "Granite Builders", "Harbor Insurance", "Iris Optics", "Juniper Labs",
];

const CONTACTS: [&str; 10] =
    ["Sam Carter", "Maya Rossi", "Tom Becker", "Aisha Khan", "Leo Dubois", "Nora Jensen", "Omar Farouk", "Priya Nair", "Ravi Menon", "Zoe Clarke"];

const TASK_VERBS: [&str; 10] =
    ["Draft", "Review", "Ship", "Test", "Design", "Plan", "Write", "Fix", "Prepare", "Publish"];
const TASK_THINGS: [&str; 14] = [
    "pricing page", "onboarding emails", "launch blog post", "API rate limits", "billing export", "beta feedback survey",
    "press kit", "release notes", "status page", "SSO login", "mobile layout", "demo video", "support macros", "usage dashboard",
];
const STATUSES: [&str; 4] = ["Todo", "In progress", "Blocked", "Done"];
const PRIORITIES: [&str; 4] = ["P0", "P1", "P2", "P3"];
const TAGS: [&str; 6] = ["Backend", "Frontend", "Docs", "Launch", "Pricing", "QA"];

/// A small deterministic generator, so every demo base holds the same data.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn choices(names: &[&str]) -> Value {
    json!({ "choices": names.iter().map(|n| json!({ "name": n })).collect::<Vec<_>>() })
}

fn table(name: &str, description: &str, fields: Value) -> NewTable {
    serde_json::from_value(json!({ "name": name, "description": description, "fields": fields })).expect("demo tables are valid")
}

fn fields(value: Value) -> Fields {
    value.as_object().cloned().expect("demo records are objects")
}

/// Creates the demo base for `owner`.
pub(super) async fn seed(sandbox: &Sandbox, owner: &UserId) -> Result<(), SandboxError> {
    let tables = [
        table("Team", "Who works on the launch.", json!([
            { "name": "Name", "type": "singleLineText" },
            { "name": "Role", "type": "singleSelect", "options": choices(&["Product", "Engineering", "Design", "Marketing", "Sales", "Support"]) },
            { "name": "Email", "type": "email" },
            { "name": "Phone", "type": "phoneNumber" },
            { "name": "Weekly hours", "type": "number", "options": { "precision": 0 } },
            { "name": "Started", "type": "date", "options": { "dateFormat": { "name": "iso", "format": "YYYY-MM-DD" } } },
            { "name": "Remote", "type": "checkbox", "options": { "icon": "check", "color": "greenBright" } },
        ])),
        table("Customers", "Accounts in the launch's beta and first wave.", json!([
            { "name": "Company", "type": "singleLineText" },
            { "name": "Contact", "type": "singleLineText" },
            { "name": "Email", "type": "email" },
            { "name": "Website", "type": "url" },
            { "name": "Segment", "type": "singleSelect", "options": choices(&["Enterprise", "Mid-market", "SMB"]) },
            { "name": "ARR", "type": "currency", "options": { "precision": 0, "symbol": "$" } },
            { "name": "Satisfaction", "type": "rating", "options": { "max": 5, "icon": "star", "color": "yellowBright" } },
            { "name": "Beta tester", "type": "checkbox", "options": { "icon": "check", "color": "greenBright" } },
            { "name": "Notes", "type": "multilineText" },
        ])),
        table("Tasks", "Everything that must happen before launch day.", json!([
            { "name": "Name", "type": "singleLineText" },
            { "name": "Status", "type": "singleSelect", "options": choices(&STATUSES) },
            { "name": "Priority", "type": "singleSelect", "options": choices(&PRIORITIES) },
            { "name": "Due", "type": "date", "options": { "dateFormat": { "name": "iso", "format": "YYYY-MM-DD" } } },
            { "name": "Estimate (hours)", "type": "number", "options": { "precision": 1 } },
            { "name": "Progress", "type": "percent", "options": { "precision": 0 } },
            { "name": "Tags", "type": "multipleSelects", "options": choices(&TAGS) },
            { "name": "Notes", "type": "multilineText" },
            { "name": "Created", "type": "createdTime", "options": { "result": { "type": "dateTime" } } },
            { "name": "Task #", "type": "autoNumber" },
        ])),
        table("Milestones", "The dates the launch is measured against.", json!([
            { "name": "Milestone", "type": "singleLineText" },
            { "name": "Target date", "type": "date", "options": { "dateFormat": { "name": "iso", "format": "YYYY-MM-DD" } } },
            { "name": "Reached", "type": "checkbox", "options": { "icon": "check", "color": "greenBright" } },
            { "name": "Description", "type": "multilineText" },
        ])),
    ];
    let created = sandbox.create_base(owner, DEMO_BASE_NAME, &tables).await?;
    let base = created["id"].as_str().unwrap_or_default().to_owned();
    let table_id = |i: usize| created["tables"][i]["id"].as_str().unwrap_or_default().to_owned();
    let (team_id, customers_id, tasks_id, milestones_id) = (table_id(0), table_id(1), table_id(2), table_id(3));

    let link = |name: &str, to: &str| -> crate::model::airtable::NewField {
        serde_json::from_value(json!({ "name": name, "type": "multipleRecordLinks", "options": { "linkedTableId": to } }))
            .expect("demo link fields are valid")
    };
    sandbox.create_field(owner, &base, &tasks_id, &link("Owner", &team_id)).await?;
    sandbox.create_field(owner, &base, &tasks_id, &link("Customer", &customers_id)).await?;
    sandbox.create_field(owner, &base, &milestones_id, &link("Tasks", &tasks_id)).await?;

    let mut dice = Dice(2026);
    let team: Vec<Fields> = TEAM
        .iter()
        .enumerate()
        .map(|(i, (name, role, hours, remote))| {
            let first = name.split(' ').next().unwrap_or(name).to_lowercase();
            fields(json!({
                "Name": name, "Role": role, "Email": format!("{first}@launch.example"),
                "Phone": format!("+1 555 01{i:02}"), "Weekly hours": hours,
                "Started": format!("202{}-{:02}-{:02}", 2 + i % 4, 1 + i % 12, 1 + (i * 7) % 28), "Remote": remote,
            }))
        })
        .collect();
    let team = insert(sandbox, owner, &base, &team_id, team).await?;

    let customers: Vec<Fields> = COMPANIES
        .iter()
        .enumerate()
        .map(|(i, company)| {
            let domain: String = company.to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
            let contact = CONTACTS[i % CONTACTS.len()];
            let segment = ["Enterprise", "Mid-market", "SMB"][dice.roll(3)];
            fields(json!({
                "Company": company, "Contact": contact,
                "Email": format!("{}@{domain}.example", contact.split(' ').next().unwrap_or(contact).to_lowercase()),
                "Website": format!("https://{domain}.example"),
                "Segment": segment,
                "ARR": 5_000 * (1 + dice.roll(60)), "Satisfaction": 1 + dice.roll(5), "Beta tester": i % 3 == 0,
                "Notes": if i % 4 == 0 { "Asked for a walkthrough of the new dashboard.\nFollow up after launch." } else { "" },
            }))
        })
        .collect();
    let customers = insert(sandbox, owner, &base, &customers_id, customers).await?;

    let tasks: Vec<Fields> = (0..70)
        .map(|i| {
            let status = STATUSES[dice.roll(4)];
            let progress = match status { "Done" => 1.0, "Todo" => 0.0, _ => (1 + dice.roll(9)) as f64 / 10.0 };
            let tag_a = TAGS[dice.roll(TAGS.len())];
            let tag_b = TAGS[dice.roll(TAGS.len())];
            let mut tags = vec![tag_a];
            if tag_b != tag_a {
                tags.push(tag_b);
            }
            let mut record = json!({
                "Name": format!("{} {}", TASK_VERBS[i % TASK_VERBS.len()], TASK_THINGS[(i * 3 + i / 10) % TASK_THINGS.len()]),
                "Status": status, "Priority": PRIORITIES[dice.roll(4)],
                "Due": format!("2026-{:02}-{:02}", 11 + (i / 28).min(1), 1 + i % 28),
                "Estimate (hours)": (1 + dice.roll(16)) as f64 / 2.0, "Progress": progress, "Tags": tags,
                "Owner": [team[dice.roll(team.len())].id.to_string()],
            });
            if i % 2 == 0 {
                record["Customer"] = json!([customers[dice.roll(customers.len())].id.to_string()]);
            }
            if status == "Blocked" {
                record["Notes"] = json!("Waiting on a decision; see the launch channel.");
            }
            fields(record)
        })
        .collect();
    let tasks = insert(sandbox, owner, &base, &tasks_id, tasks).await?;

    let milestones: Vec<Fields> = [
        ("Scope frozen", "2026-10-15", true),
        ("Private beta opens", "2026-10-29", true),
        ("Pricing approved", "2026-11-05", true),
        ("Docs complete", "2026-11-19", false),
        ("Public beta", "2026-11-26", false),
        ("Press embargo lifts", "2026-12-03", false),
        ("Launch day", "2026-12-08", false),
        ("Launch retrospective", "2026-12-15", false),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, date, reached))| {
        let linked: Vec<String> = tasks.iter().skip(i * 8).take(4).map(|t| t.id.to_string()).collect();
        fields(json!({ "Milestone": name, "Target date": date, "Reached": reached, "Tasks": linked,
            "Description": format!("{name}: the tasks linked here must be done by {date}.") }))
    })
    .collect();
    insert(sandbox, owner, &base, &milestones_id, milestones).await?;
    tracing::info!(user.id = %owner, base.id = %base, "created the demo base");
    Ok(())
}

/// Creates records a write's worth at a time.
async fn insert(sandbox: &Sandbox, owner: &UserId, base: &str, table: &str, records: Vec<Fields>) -> Result<Vec<Record>, SandboxError> {
    let mut created = Vec::with_capacity(records.len());
    for chunk in records.chunks(sandbox.settings.records_per_write) {
        let request = WriteRequest { records: chunk.iter().map(|f| (None, f.clone())).collect(), ..WriteRequest::default() };
        created.extend(sandbox.create_records(owner, base, table, &request).await?);
    }
    Ok(created)
}
