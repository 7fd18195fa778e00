//! Each municipality's partner directory: the organisations its desks refer residents to
//! (issue 16). Organisations only, never a person; retired rather than deleted, so the
//! records that name one keep their meaning.

use super::flag::Flag;
use super::{Store, StoreError, timed};

/// What kind of organisation a partner is.
pub const KINDS: [&str; 10] = [
    "immigration",
    "legal_aid",
    "employment",
    "labour_standards",
    "social_welfare",
    "npo",
    "international_association",
    "japanese_class",
    "municipal_department",
    "other",
];

/// A partner of a municipality.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Partner {
    /// Id.
    pub id: i64,
    /// Its municipality (tenant).
    pub tenant: i64,
    /// Its name ("出入国在留管理局", "法テラス", "市役所 子育て支援課").
    pub name: String,
    /// One of the kinds (`immigration`, `legal_aid`, `employment`, `labour_standards`,
    /// `social_welfare`, `npo`, `international_association`, `japanese_class`,
    /// `municipal_department`, `other`).
    pub kind: String,
    /// No longer offered to desks; records that name it keep it.
    pub retired: bool,
}

impl Store {
    /// A municipality's partners, by name; retired ones too when `all`.
    pub async fn partners(&self, tenant: i64, all: bool) -> Result<Vec<Partner>, StoreError> {
        let rows: Vec<(i64, i64, String, String, Flag)> = timed(
            sqlx::query_as(
                "SELECT id, tenant_id, name, kind, retired FROM partners \
                 WHERE tenant_id = $1 AND ($2 OR NOT retired) ORDER BY name",
            )
            .bind(tenant)
            .bind(all)
            .fetch_all(&self.pool),
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, tenant, name, kind, retired)| Partner { id, tenant, name, kind, retired: retired.0 })
            .collect())
    }

    /// A partner, whatever its municipality.
    pub async fn partner(&self, id: i64) -> Result<Option<Partner>, StoreError> {
        let row: Option<(i64, i64, String, String, Flag)> = timed(
            sqlx::query_as("SELECT id, tenant_id, name, kind, retired FROM partners WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool),
        )
        .await?;
        Ok(row.map(|(id, tenant, name, kind, retired)| Partner { id, tenant, name, kind, retired: retired.0 }))
    }

    /// Add a partner to a municipality; its id. A name the municipality has is a conflict.
    pub async fn add_partner(&self, tenant: i64, name: &str, kind: &str) -> Result<i64, StoreError> {
        let done = timed(
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO partners (tenant_id, name, kind) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(tenant)
            .bind(name)
            .bind(kind)
            .fetch_one(&self.pool),
        )
        .await?;
        Ok(done)
    }

    /// Every partner's name by id, of every municipality, retired ones too: what reports
    /// print for a record's referral.
    pub async fn partner_names(&self) -> Result<Vec<(i64, String)>, StoreError> {
        timed(sqlx::query_as("SELECT id, name FROM partners").fetch_all(&self.pool)).await
    }

    /// Rename, re-kind, retire or bring back a partner. Returns whether it exists.
    pub async fn update_partner(&self, id: i64, name: &str, kind: &str, retired: bool) -> Result<bool, StoreError> {
        let done = timed(
            sqlx::query("UPDATE partners SET name = $1, kind = $2, retired = $3 WHERE id = $4")
                .bind(name)
                .bind(kind)
                .bind(retired)
                .bind(id)
                .execute(&self.pool),
        )
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn partners_belong_to_a_municipality_and_retire_rather_than_go() {
        let dir = std::env::temp_dir().join(format!("kakehashi-store-partners-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).await.unwrap();
        let a = store.insert_tenant("A", 10, "Asia/Tokyo").await.unwrap();
        let b = store.insert_tenant("B", 10, "Asia/Tokyo").await.unwrap();
        let legal = store.add_partner(a, "法テラス", "legal_aid").await.unwrap();
        let work = store.add_partner(a, "ハローワーク", "employment").await.unwrap();
        store.add_partner(b, "法テラス", "legal_aid").await.unwrap();
        assert!(store.add_partner(a, "法テラス", "legal_aid").await.is_err(), "one name once per municipality");
        assert_eq!(store.partners(a, false).await.unwrap().len(), 2);
        assert!(store.update_partner(work, "ハローワーク", "employment", true).await.unwrap());
        let active = store.partners(a, false).await.unwrap();
        assert_eq!(active.iter().map(|p| p.id).collect::<Vec<_>>(), [legal]);
        assert_eq!(store.partners(a, true).await.unwrap().len(), 2);
        assert_eq!(store.partner(work).await.unwrap().map(|p| (p.tenant, p.retired)), Some((a, true)));
        assert!(!store.update_partner(999, "x", "other", false).await.unwrap());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
