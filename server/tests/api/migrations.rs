use std::collections::BTreeSet;
use std::path::Path;

use backend::db::{Db, Dialect};

use crate::helpers::TestDatabase;

/// (table, column, not null) for every table the migrations create.
type Shape = BTreeSet<(String, String, bool)>;

async fn shape(db: &Db) -> Shape {
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            "SELECT m.name, p.name, CAST(p.\"notnull\" OR p.pk > 0 AS BIGINT) \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'"
        }
        Dialect::Postgres => {
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT), \
                    CAST(CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS BIGINT) \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'"
        }
    };
    let rows: Vec<(String, String, i64)> = sqlx::query_as(sql).fetch_all(db.pool()).await.unwrap();
    rows.into_iter().map(|(t, c, n)| (t, c, n != 0)).collect()
}

async fn migrated(dialect: Dialect) -> (TestDatabase, Db) {
    let test_db = TestDatabase::new(dialect).await;
    let db = Db::connect(&test_db.url).await.unwrap();
    db.migrate().await.unwrap();
    (test_db, db)
}

#[tokio::test]
async fn both_migration_sets_create_the_same_tables_and_columns() {
    let (_s, sqlite) = migrated(Dialect::Sqlite).await;
    let (_p, postgres) = migrated(Dialect::Postgres).await;
    let (sqlite, postgres) = (shape(&sqlite).await, shape(&postgres).await);
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

#[test]
fn both_migration_sets_have_the_same_versions_and_names() {
    let names = |dialect: &str| -> BTreeSet<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(dialect);
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

#[tokio::test]
async fn migrating_twice_applies_nothing_the_second_time_on_postgres() {
    let (_p, db) = migrated(Dialect::Postgres).await;
    assert_eq!(db.migrate().await.unwrap(), 0);
    assert_eq!(db.applied_migrations().await.unwrap(), db.known_migrations());
}
