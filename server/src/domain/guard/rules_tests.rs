use super::*;

const HOUR: i64 = 3_600_000;

fn grant(starts_at: i64, ends_at: i64, revoked_at: Option<i64>) -> GrantWindow {
    GrantWindow { id: 1, pin_id: 1, starts_at, ends_at, revoked_at, paths: None }
}

/// A pin under no policy: nothing taken away, its whole history shown.
fn open() -> PinFacts {
    PinFacts { history: HistoryPolicy::Full, ..PinFacts::default() }
}

#[test]
fn a_grant_is_active_from_its_start_until_just_before_its_end() {
    let window = grant(10 * HOUR, 12 * HOUR, None);
    assert!(!grant_is_active_at(&window, 10 * HOUR - 1));
    assert!(grant_is_active_at(&window, 10 * HOUR));
    assert!(grant_is_active_at(&window, 12 * HOUR - 1));
    assert!(!grant_is_active_at(&window, 12 * HOUR));
    assert!(!grant_is_active_at(&grant(10 * HOUR, 12 * HOUR, Some(11 * HOUR)), 10 * HOUR + 1));
}

#[test]
fn each_role_reads_a_pin_by_its_own_rule() {
    let active = [grant(0, 2 * HOUR, None)];
    let revoked = [grant(0, 2 * HOUR, Some(HOUR))];
    let later = [grant(3 * HOUR, 4 * HOUR, None)];
    let now = HOUR;
    for role in [Role::Reviewer, Role::Regulator] {
        assert_eq!(pin_readable(role, false, &active, now), Some(Some(2 * HOUR)), "{role:?} with a grant");
        assert_eq!(pin_readable(role, false, &[], now), None, "{role:?} without a grant");
        assert_eq!(pin_readable(role, false, &revoked, now), None, "{role:?} revoked");
        assert_eq!(pin_readable(role, false, &later, now), None, "{role:?} before the window");
        assert_eq!(pin_readable(role, false, &active, 2 * HOUR), None, "{role:?} at the end");
        assert_eq!(pin_readable(role, true, &active, now), None, "{role:?} withdrawn pin");
    }
    for withdrawn in [false, true] {
        assert_eq!(pin_readable(Role::Staff, withdrawn, &[], now), Some(None), "staff read every pin");
    }
}

#[test]
fn regulators_oversee_review_records_without_a_grant_but_never_take_part() {
    let now = HOUR;
    let active = [grant(0, 2 * HOUR, None)];
    let withdrawn = PinFacts { withdrawn: true, ..open() };
    assert_eq!(pin_permitted(Role::Regulator, PinUse::ReadReview, withdrawn, &[], now), Ok(None));
    assert_eq!(pin_permitted(Role::Regulator, PinUse::Review, open(), &active, now), Err(Refusal::NoAccess));
    assert_eq!(pin_permitted(Role::Reviewer, PinUse::ReadReview, open(), &[], now), Err(Refusal::NoAccess));
    assert_eq!(pin_permitted(Role::Reviewer, PinUse::Review, open(), &active, now), Ok(Some(2 * HOUR)));
    assert_eq!(pin_permitted(Role::Reviewer, PinUse::Review, withdrawn, &active, now), Err(Refusal::NoAccess));
    assert_eq!(pin_permitted(Role::Staff, PinUse::Review, withdrawn, &[], now), Ok(None));
}

/// Every role × every use × a pin open, withdrawn or under the take-away policy × a grant
/// before its start, active, at its end and revoked: the whole table, row by row.
#[test]
fn every_role_use_pin_state_and_window_edge_is_decided_by_the_table() {
    use PinUse::*;
    let policy = PinFacts { no_download: true, no_copy: true, ..open() };
    let withdrawn = PinFacts { withdrawn: true, ..open() };
    let window = [grant(HOUR, 2 * HOUR, None)];
    let revoked = [grant(HOUR, 2 * HOUR, Some(HOUR + 1))];
    // (role, use, expected on an open pin with an active grant)
    let granted_open: [(Role, PinUse, Result<(), Refusal>); 4 * 11] = [
        (Role::Staff, ReadSource, Ok(())),
        (Role::Staff, ReadReview, Ok(())),
        (Role::Staff, Review, Ok(())),
        (Role::Staff, StartThread, Err(Refusal::NotSo("staff answer threads; reviewers start them"))),
        (Role::Staff, Reply, Ok(())),
        (Role::Staff, MarkReviewed, Err(Refusal::Role("reviewers mark files reviewed"))),
        (Role::Staff, GiveVerdict, Err(Refusal::Role("reviewers give verdicts"))),
        (Role::Staff, Download, Ok(())),
        (Role::Staff, Copy, Ok(())),
        (Role::Staff, ReadHistory, Ok(())),
        (Role::Staff, ReadHistoryDiffs, Ok(())),
        (Role::Regulator, ReadSource, Ok(())),
        (Role::Regulator, ReadReview, Ok(())),
        (Role::Regulator, Review, Err(Refusal::NoAccess)),
        (Role::Regulator, StartThread, Err(Refusal::Role("regulators oversee reviews; they do not comment"))),
        (Role::Regulator, Reply, Err(Refusal::Role("regulators oversee reviews; they do not comment"))),
        (Role::Regulator, MarkReviewed, Err(Refusal::Role("reviewers mark files reviewed"))),
        (Role::Regulator, GiveVerdict, Err(Refusal::Role("reviewers give verdicts"))),
        (Role::Regulator, Download, Ok(())),
        (Role::Regulator, Copy, Ok(())),
        (Role::Regulator, ReadHistory, Ok(())),
        (Role::Regulator, ReadHistoryDiffs, Ok(())),
        (Role::Reviewer, ReadSource, Ok(())),
        (Role::Reviewer, ReadReview, Ok(())),
        (Role::Reviewer, Review, Ok(())),
        (Role::Reviewer, StartThread, Ok(())),
        (Role::Reviewer, Reply, Ok(())),
        (Role::Reviewer, MarkReviewed, Ok(())),
        (Role::Reviewer, GiveVerdict, Ok(())),
        (Role::Reviewer, Download, Ok(())),
        (Role::Reviewer, Copy, Ok(())),
        (Role::Reviewer, ReadHistory, Ok(())),
        (Role::Reviewer, ReadHistoryDiffs, Ok(())),
        (Role::Builder, ReadSource, Err(Refusal::NoAccess)),
        (Role::Builder, ReadReview, Err(Refusal::NoAccess)),
        (Role::Builder, Review, Err(Refusal::NoAccess)),
        (Role::Builder, StartThread, Err(Refusal::NoAccess)),
        (Role::Builder, Reply, Err(Refusal::NoAccess)),
        (Role::Builder, MarkReviewed, Err(Refusal::Role("reviewers mark files reviewed"))),
        (Role::Builder, GiveVerdict, Err(Refusal::Role("reviewers give verdicts"))),
        (Role::Builder, Download, Err(Refusal::NoAccess)),
        (Role::Builder, Copy, Err(Refusal::NoAccess)),
        (Role::Builder, ReadHistory, Err(Refusal::NoAccess)),
        (Role::Builder, ReadHistoryDiffs, Err(Refusal::NoAccess)),
    ];
    let now = HOUR + HOUR / 2;
    for (role, usage, expected) in granted_open {
        let answer = pin_permitted(role, usage, open(), &window, now).map(|_| ());
        assert_eq!(answer, expected, "{role:?} {usage:?} on an open pin with a grant");
        // Without a grant, before its start, at its end, after its revocation: only staff, and
        // regulators for review records, keep what they had; the role's own refusals stay.
        for (grants, at, edge) in [
            (&[][..], now, "no grant"),
            (&window[..], HOUR - 1, "before the start"),
            (&window[..], 2 * HOUR, "at the end"),
            (&revoked[..], now, "revoked"),
        ] {
            let answer = pin_permitted(role, usage, open(), grants, at).map(|_| ());
            let keeps = role == Role::Staff || (role == Role::Regulator && usage == ReadReview);
            let wanted = match expected {
                Ok(()) if keeps => Ok(()),
                Ok(()) => Err(Refusal::NoAccess),
                refused => refused,
            };
            assert_eq!(answer, wanted, "{role:?} {usage:?}, {edge}");
        }
        // A withdrawn pin: staff only (and regulators' oversight).
        let answer = pin_permitted(role, usage, withdrawn, &window, now).map(|_| ());
        let wanted = match expected {
            Ok(()) if role == Role::Staff || (role == Role::Regulator && usage == ReadReview) => Ok(()),
            Ok(()) => Err(Refusal::NoAccess),
            refused => refused,
        };
        assert_eq!(answer, wanted, "{role:?} {usage:?} on a withdrawn pin");
        // The take-away policy binds everyone but staff, for downloads and copying only.
        let answer = pin_permitted(role, usage, policy, &window, now).map(|_| ());
        let wanted = match (expected, usage) {
            (Ok(()), Download) if role != Role::Staff => {
                Err(Refusal::Policy("downloads of this pin are disabled by staff; read the file in the browser"))
            }
            (Ok(()), Copy) if role != Role::Staff => Err(Refusal::Policy("copying from this pin is disabled by staff")),
            (other, _) => other,
        };
        assert_eq!(answer, wanted, "{role:?} {usage:?} under the take-away policy");
    }
}

/// The history policy binds everyone but staff: `off` shows no history, `messages` the commits and
/// blame, `full` their diffs too; a grant is needed as for the source.
#[test]
fn the_history_policy_shows_each_level_and_not_the_next() {
    let window = [grant(0, 2 * HOUR, None)];
    let refused_history = Err(Refusal::Policy("the history behind this pin is not shown; staff decide what is"));
    let refused_diffs =
        Err(Refusal::Policy("the diffs of the commits behind this pin are not shown; staff decide what is"));
    for (policy, history, diffs) in [
        (HistoryPolicy::Off, refused_history, refused_diffs),
        (HistoryPolicy::Messages, Ok(()), refused_diffs),
        (HistoryPolicy::Full, Ok(()), Ok(())),
    ] {
        let pin = PinFacts { history: policy, ..PinFacts::default() };
        for role in [Role::Reviewer, Role::Regulator] {
            let answer = |usage| pin_permitted(role, usage, pin, &window, HOUR).map(|_| ());
            assert_eq!(answer(PinUse::ReadHistory), history, "{role:?} {policy:?}");
            assert_eq!(answer(PinUse::ReadHistoryDiffs), diffs, "{role:?} {policy:?}");
            assert_eq!(answer(PinUse::ReadSource), Ok(()), "{role:?} {policy:?}: the source stays readable");
            assert_eq!(pin_permitted(role, PinUse::ReadHistory, pin, &[], HOUR), Err(Refusal::NoAccess));
            let caps = capabilities(role, pin, &window, HOUR, None);
            assert_eq!((caps.history, caps.history_diffs), (history.is_ok(), diffs.is_ok()), "{role:?} {policy:?}");
        }
        let staff = capabilities(Role::Staff, pin, &[], HOUR, None);
        assert!(staff.history && staff.history_diffs, "staff read every pin's history ({policy:?})");
    }
    let token = TokenAccess { id: 1, scopes: vec![Scope::Review] };
    let pin = PinFacts { history: HistoryPolicy::Full, ..PinFacts::default() };
    assert!(!capabilities(Role::Reviewer, pin, &window, HOUR, Some(&token)).history, "no token reads history");
}

#[test]
fn a_page_offers_what_the_table_allows_and_a_token_only_what_its_scopes_allow() {
    let window = [grant(0, 2 * HOUR, None)];
    let reviewer = capabilities(Role::Reviewer, open(), &window, HOUR, None);
    assert!(reviewer.read_source && reviewer.start_thread && reviewer.mark && reviewer.verdict);
    assert!(reviewer.download && reviewer.copy && !reviewer.export);
    let policy = PinFacts { no_download: true, no_copy: true, ..open() };
    let bound = capabilities(Role::Reviewer, policy, &window, HOUR, None);
    assert!(!bound.download && !bound.copy && bound.read_source);
    let staff = capabilities(Role::Staff, policy, &[], HOUR, None);
    assert!(staff.download && staff.copy && staff.take_part && !staff.start_thread && !staff.mark);
    let regulator = capabilities(Role::Regulator, open(), &[], HOUR, None);
    assert!(regulator.read_review && regulator.export && !regulator.read_source && !regulator.take_part);
    let expired = capabilities(Role::Reviewer, open(), &window, 2 * HOUR, None);
    assert_eq!(expired, Capabilities::default(), "nothing once the window is over");
    let review_token = TokenAccess { id: 1, scopes: vec![Scope::Review] };
    let by_token = capabilities(Role::Reviewer, open(), &window, HOUR, Some(&review_token));
    assert!(by_token.start_thread && by_token.read_review);
    assert!(!by_token.read_source && !by_token.download && !by_token.copy, "no token reads source");
    let log_token = TokenAccess { id: 2, scopes: vec![Scope::LogRead] };
    assert!(!capabilities(Role::Regulator, open(), &[], HOUR, Some(&log_token)).read_review);
    assert_eq!(every_capability(), staff);
}

#[test]
fn an_artifact_lookup_shows_review_records_only_to_who_reads_them_and_builders_the_build_facts() {
    assert_eq!(artifact_records(Role::Regulator, true), ArtifactRecords::Review);
    assert_eq!(artifact_records(Role::Reviewer, true), ArtifactRecords::Review);
    assert_eq!(artifact_records(Role::Reviewer, false), ArtifactRecords::Hidden, "no grant: not even named");
    assert_eq!(artifact_records(Role::Builder, false), ArtifactRecords::BuildFacts);
    assert_eq!(artifact_records(Role::Regulator, false), ArtifactRecords::Hidden, "a token without review");
}

#[test]
fn a_reviewer_reads_their_own_coverage_and_overseers_everyones() {
    let person = |role| Identity { user_id: 3, username: "ann".into(), role };
    assert_eq!(coverage_limited_to(Some(&person(Role::Reviewer))), Some("ann"));
    assert_eq!(coverage_limited_to(Some(&person(Role::Regulator))), None);
    assert_eq!(coverage_limited_to(Some(&person(Role::Staff))), None);
    assert_eq!(coverage_limited_to(None), None, "the operator and jobs");
}

#[test]
fn an_export_is_seen_by_its_creator_and_staff() {
    assert!(may_see_export(Role::Regulator, 4, Some(4)));
    assert!(!may_see_export(Role::Regulator, 4, Some(5)));
    assert!(!may_see_export(Role::Regulator, 4, None), "the operator's export");
    assert!(may_see_export(Role::Staff, 1, Some(5)) && may_see_export(Role::Staff, 1, None));
    assert_eq!(exports_visible_to(Role::Staff, 1), None);
    assert!(may_download_export(4, Some(4)));
    assert!(!may_download_export(1, Some(4)), "staff do not take another's bundle");
    assert!(!may_download_export(4, None));
    assert_eq!(exports_visible_to(Role::Regulator, 4), Some(4));
}

#[test]
fn the_latest_of_several_active_grants_counts() {
    let grants = [grant(0, 2 * HOUR, None), grant(0, 5 * HOUR, None), grant(0, 9 * HOUR, Some(1))];
    assert_eq!(latest_active_end(&grants, HOUR), Some(5 * HOUR));
    assert_eq!(latest_active_end(&grants, 5 * HOUR), None);
}

#[test]
fn imported_tool_results_are_read_by_reviewers_and_staff_only() {
    assert!(reads_tool_results(Role::Reviewer) && reads_tool_results(Role::Staff));
    for role in [Role::Regulator, Role::Supervisor, Role::Builder] {
        assert!(!reads_tool_results(role), "{role:?}");
    }
}
