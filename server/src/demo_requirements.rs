//! The demo's requirement list: six security functional requirements in the style of a Common
//! Criteria security target, imported for the demo release by the operator. The reviewer traces
//! two of them to code (`demo::review`); the rest show as untraced on the traceability page.

use crate::domain::{Actor, Domain};
use app::error::AppResult;
use app::model::PinId;

/// The list, as staff would write it (CSV with the header `id,title,text`).
pub const LIST: &str = "id,title,text\n\
FCS_COP.1/HASH,Cryptographic operation (hashing),\"The TSF shall perform hashing in accordance with SHA-256 (FIPS 180-4), with domain separation between leaf and interior nodes.\"\n\
FDP_ITC.1,Import of user data without security attributes,The TSF shall check the length and form of imported data before using it.\n\
FAU_GEN.1,Audit data generation,\"The TSF shall generate an audit record of each access to source, each search and each export.\"\n\
FAU_STG.1,Protected audit trail storage,The TSF shall protect the stored audit records from unauthorised deletion and be able to detect modification.\n\
FIA_UAU.2,User authentication before any action,The TSF shall require each user to be successfully authenticated before allowing any other action.\n\
FTA_SSL.3,TSF-initiated termination,The TSF shall terminate an interactive session after a period of inactivity.\n";

/// The requirement the demo's finding is against, and the one its note on the code traces.
pub const FINDING_AGAINST: &str = "FDP_ITC.1";
pub const TRACED: &str = "FCS_COP.1/HASH";

pub async fn import(domain: &Domain, pin: PinId) -> AppResult<()> {
    domain.requirements().import(Actor::Operator, pin, LIST.as_bytes()).await?;
    Ok(())
}
