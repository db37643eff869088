//! The requirement lists a bundle holds and its traceability matrix (`export::traceability`): each
//! list whose SHA-256 the latest `requirements.import` event of the bundle for its pin records.

use super::io_error;
use crate::domain::error::internal;
use crate::domain::Exports;
use crate::export::bundle::ThreadRecord;
use crate::export::traceability::{self, RequirementsRecord, TraceRow};
use crate::export::writer::BundleWriter;
use crate::export::{members, Summary};
use app::error::AppResult;

impl Exports<'_> {
    /// Writes `requirements.json` and `traceability.csv`; returns what the report shows.
    pub(super) async fn bundled_requirements(
        &self,
        bundle: &mut BundleWriter,
        summary: &Summary,
        comments: &[ThreadRecord],
    ) -> AppResult<(Vec<RequirementsRecord>, Vec<TraceRow>)> {
        let mut lists = Vec::new();
        for (pin, (list_id, digest)) in &summary.requirement_lists {
            let Some(row) = self.store.requirement_list(*list_id).await? else { continue };
            if row.pin_id != *pin || row.sha256 != *digest {
                continue;
            }
            let requirements = self.store.requirements_of(row.id).await?;
            let record = RequirementsRecord { pin: *pin, list: row.id, sha256: digest.clone(), requirements };
            if record.holds() {
                lists.push(record);
            }
        }
        let json = serde_json::to_vec_pretty(&lists).map_err(|e| internal(&e))?;
        bundle.member(members::REQUIREMENTS, &json).await.map_err(io_error)?;
        let rows = traceability::rows(&lists, comments, summary);
        let csv = traceability::csv(&rows).map_err(|e| internal(&e))?;
        bundle.member(members::TRACEABILITY, &csv).await.map_err(io_error)?;
        Ok((lists, rows))
    }
}
