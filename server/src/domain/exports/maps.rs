//! The compiled-code maps a bundle holds (`export::compiled`): each whose digest a `done`
//! `artifact.compiled_map` event of the bundle records.

use super::io_error;
use crate::builds::sha256_hex;
use crate::domain::error::internal;
use crate::domain::Exports;
use crate::export::writer::BundleWriter;
use crate::export::{self, Summary};
use app::error::AppResult;

impl Exports<'_> {
    /// Writes each compiled-code map whose digest a `done` event of the bundle records (the latest
    /// for its pin and artifact) as a member; a map built again since (another digest) is left out.
    pub(super) async fn bundled_maps(
        &self,
        bundle: &mut BundleWriter,
        summary: &Summary,
        builds: &[crate::store::builds::BuildRow],
    ) -> AppResult<Vec<export::compiled::BundledMap>> {
        let mut maps = Vec::new();
        for ((pin, sha256), digest) in &summary.maps {
            let Some(row) = self.store.compiled_map(*pin, sha256).await? else { continue };
            if row.map_sha256.as_deref() != Some(digest.as_str()) {
                continue;
            }
            let Some(packed) = self.store.compiled_map_bytes(row.id).await? else { continue };
            let bytes = zstd::bulk::decompress(&packed, 1 << 30).map_err(|e| internal(&e))?;
            if sha256_hex(&bytes) != *digest {
                continue;
            }
            let map: export::compiled::MapMember = serde_json::from_slice(&bytes).map_err(|e| internal(&e))?;
            bundle.member(&export::compiled::member_name(*pin, sha256), &bytes).await.map_err(io_error)?;
            let artifact = builds.iter().find(|b| b.pin_id == *pin && b.sha256 == *sha256).map(|b| b.name.clone());
            maps.push(export::compiled::BundledMap {
                pin: *pin,
                sha256: sha256.clone(),
                artifact: artifact.unwrap_or_default(),
                map_sha256: digest.clone(),
                map,
            });
        }
        Ok(maps)
    }
}
