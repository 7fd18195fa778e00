//! The shared centre's cost split rule (issue 16): one row, and the members' foreign
//! resident counts it weighs by, written together.

use super::{Store, StoreError, timed};

/// How the centre's joint cost is split each month.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct CostSplitRule {
    /// The joint cost of a month, yen.
    pub monthly_cost: i64,
    /// Percent split equally among the members (均等割).
    pub equal_percent: u8,
    /// Percent split by each member's share of foreign residents (人口割).
    pub residents_percent: u8,
    /// Percent split by each member's use (利用割).
    pub usage_percent: u8,
    /// What use is counted in: `minutes` interpreted or `consultations`.
    pub usage_basis: String,
}

impl Default for CostSplitRule {
    /// Hiroshima's: all of it by the share of foreign residents.
    fn default() -> CostSplitRule {
        CostSplitRule {
            monthly_cost: 0,
            equal_percent: 0,
            residents_percent: 100,
            usage_percent: 0,
            usage_basis: "minutes".into(),
        }
    }
}

impl Store {
    /// The centre's rule, or the default (all by foreign residents, no cost set).
    pub async fn cost_split_rule(&self) -> Result<CostSplitRule, StoreError> {
        let row: Option<(i64, i64, i64, i64, String)> = timed(
            sqlx::query_as(
                "SELECT monthly_cost, equal_percent, residents_percent, usage_percent, usage_basis FROM cost_split",
            )
            .fetch_optional(&self.pool),
        )
        .await?;
        let percent = |v: i64| {
            u8::try_from(v).map_err(|_| StoreError::Corrupt { table: "cost_split", problem: format!("percent {v}") })
        };
        match row {
            None => Ok(CostSplitRule::default()),
            Some((monthly_cost, e, r, u, usage_basis)) => Ok(CostSplitRule {
                monthly_cost,
                equal_percent: percent(e)?,
                residents_percent: percent(r)?,
                usage_percent: percent(u)?,
                usage_basis,
            }),
        }
    }

    /// Set the rule and, in the same transaction, members' foreign resident counts
    /// (tenant id, count). A rule the database refuses (parts not adding up to 100) is
    /// [`super::Constraint::Check`]; returns whether every tenant named exists.
    pub async fn set_cost_split(&self, rule: &CostSplitRule, residents: &[(i64, i64)]) -> Result<bool, StoreError> {
        let mut tx = timed(self.pool.begin()).await?;
        timed(
            sqlx::query(
                "INSERT INTO cost_split (id, monthly_cost, equal_percent, residents_percent, usage_percent, usage_basis) \
                 VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET monthly_cost = excluded.monthly_cost, \
                 equal_percent = excluded.equal_percent, residents_percent = excluded.residents_percent, \
                 usage_percent = excluded.usage_percent, usage_basis = excluded.usage_basis",
            )
            .bind(rule.monthly_cost)
            .bind(i64::from(rule.equal_percent))
            .bind(i64::from(rule.residents_percent))
            .bind(i64::from(rule.usage_percent))
            .bind(&rule.usage_basis)
            .execute(&mut *tx),
        )
        .await?;
        for (tenant, count) in residents {
            let done = timed(
                sqlx::query("UPDATE tenants SET foreign_residents = $1 WHERE id = $2")
                    .bind(count)
                    .bind(tenant)
                    .execute(&mut *tx),
            )
            .await?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
        }
        timed(tx.commit()).await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_rule_and_the_counts_are_kept_together_and_checked() {
        let dir = std::env::temp_dir().join(format!("kakehashi-store-cost-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).await.unwrap();
        let a = store.insert_tenant("A", 10, "Asia/Tokyo").await.unwrap();
        assert_eq!(store.cost_split_rule().await.unwrap(), CostSplitRule::default());
        let rule = CostSplitRule {
            monthly_cost: 500_000,
            equal_percent: 20,
            residents_percent: 30,
            usage_percent: 50,
            usage_basis: "consultations".into(),
        };
        assert!(store.set_cost_split(&rule, &[(a, 1234)]).await.unwrap());
        assert_eq!(store.cost_split_rule().await.unwrap(), rule);
        assert_eq!(store.directory().await.unwrap().tenants[0].foreign_residents, 1234);
        let bad = CostSplitRule { usage_percent: 60, ..rule.clone() };
        assert!(matches!(
            store.set_cost_split(&bad, &[]).await,
            Err(StoreError::Constraint(super::super::Constraint::Check))
        ));
        assert!(!store.set_cost_split(&rule, &[(a, 1), (99, 5)]).await.unwrap(), "an unknown member");
        assert_eq!(store.directory().await.unwrap().tenants[0].foreign_residents, 1234, "nothing of it written");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
