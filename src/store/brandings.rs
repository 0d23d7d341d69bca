use super::error::column;
use super::{Store, StoreError};
use crate::domain::ids::AppId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrandingRow {
    pub display_name: String,
    pub logo_url: Option<String>,
    pub brand_color: String,
    pub support_label: Option<String>,
    pub updated_at: i64,
}

impl Store {
    pub async fn find_branding(&self, app: AppId) -> Result<Option<BrandingRow>, StoreError> {
        let row = sqlx::query("SELECT display_name, logo_url, brand_color, support_label, updated_at FROM brandings WHERE app_id = $1")
            .bind(app.to_string())
            .fetch_optional(self.reader())
            .await?;
        row.map(|r| {
            Ok(BrandingRow {
                display_name: column(&r, "display_name")?,
                logo_url: column(&r, "logo_url")?,
                brand_color: column(&r, "brand_color")?,
                support_label: column(&r, "support_label")?,
                updated_at: column(&r, "updated_at")?,
            })
        })
        .transpose()
    }

    pub async fn upsert_branding(&self, app: AppId, b: &BrandingRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO brandings (app_id, display_name, logo_url, brand_color, support_label, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (app_id) DO UPDATE SET display_name = excluded.display_name, logo_url = excluded.logo_url,
                brand_color = excluded.brand_color, support_label = excluded.support_label, updated_at = excluded.updated_at",
        )
        .bind(app.to_string())
        .bind(&b.display_name)
        .bind(&b.logo_url)
        .bind(&b.brand_color)
        .bind(&b.support_label)
        .bind(b.updated_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }
}
