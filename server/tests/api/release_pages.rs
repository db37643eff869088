//! A pin's releases page, as staff and supervisors use it in the browser: staff propose a release
//! from the artifacts recorded for the pin, each rule shows met or unmet with its reason, and
//! supervisors download the dossier, sign it offline and paste the file; a refused form comes back
//! filled in with its reason beside it, and nothing is recorded for it.

use crate::builds::{builder_token, sha256};
use crate::helpers::*;
use crate::release_flow::{record, room, verdict, Room, BINARY};
use clearroom::releases::keys;
use reqwest::{Client, StatusCode};

/// Posts a page's form with its token and follows the redirect back: the page it lands on.
async fn post_and_follow(app: &TestApp, client: &Client, path: &str, fields: &[(&str, &str)]) -> String {
    let response = client.post(app.url(path)).header("origin", &app.address).form(fields).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    let back = location(&response);
    assert!(back.starts_with(&format!("/pins/{}/releases", app.pin)), "{back}");
    client.get(app.url(&back)).send().await.unwrap().text().await.unwrap()
}

async fn page(app: &TestApp, client: &Client) -> String {
    let response = client.get(app.url(&format!("/pins/{}/releases", app.pin))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

#[tokio::test]
async fn staff_propose_on_the_page_and_supervisors_sign_there_until_the_release_is_authorised() {
    let Room { app, keys: signers, staff: token } = room().await;
    let (b1, b2) = (builder_token(&app, "ci").await, builder_token(&app, "lab").await);
    record(&app, &b1, BINARY).await;
    record(&app, &b2, BINARY).await;
    verdict(&app, "no_objection").await;
    let spec = format!("product:linux:{}", sha256(BINARY));
    let releases = format!("/pins/{}/releases", app.pin);

    // Staff see the policy in words and the recorded artifact offered, ticked: its builders agree.
    let (staff, csrf) = signed_in(&app, "staff").await;
    let html = page(&app, &staff).await;
    assert!(html.contains(r#"id="releases-tab""#), "the pin's tabs lead here");
    assert!(html.contains("each artifact built with the same SHA-256 by 2 distinct builder account(s)"));
    assert!(html.contains("2 of the supervisors sup1, sup2, sup3 sign"));
    let offered = html.find(&format!(r#"value="{spec}""#)).expect("the recorded artifact is offered");
    assert!(html[offered..].split('>').next().unwrap().contains("checked"), "ticked");
    assert!(!html.contains("Your decision"), "staff do not sign");

    // A refused proposal comes back with its reason and what was typed; nothing is proposed.
    let refused = post_and_follow(
        &app,
        &staff,
        &releases,
        &[("csrf", &csrf), ("version", "2.4.1"), ("artifact", &spec), ("more", "tool:linux:not-a-hash")],
    )
    .await;
    assert_eq!(outcomes(&refused), ["tool: a SHA-256 is 64 hexadecimal digits"], "{}", outcomes(&refused).join("|"));
    assert!(refused.contains("tool:linux:not-a-hash</textarea>"), "the typed line comes back");
    assert!(refused.contains(r#"value="2.4.1""#));
    assert!(app.events("release.propose").await.is_empty());

    let proposed =
        post_and_follow(&app, &staff, &releases, &[("csrf", &csrf), ("version", "2.4.1"), ("artifact", &spec)]).await;
    let listed: serde_json::Value = new_client()
        .get(app.url(&releases.replace("/pins", "/api/v1/pins")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = listed[0]["id"].as_i64().unwrap();
    assert_eq!(outcomes(&proposed), [format!("proposed: release {id} (2.4.1) waiting for supervisors")]);
    assert!(proposed.contains(r#"class="badge release-state state-proposed""#));
    assert!(proposed.contains("supervisors</strong>"), "the supervisors' rule is shown");
    assert!(proposed.contains("0 of 2 supervisor signature(s) of sup1, sup2, sup3"));
    assert_eq!(app.events("release.propose").await.len(), 1);
    assert!(!app.events("release.list").await.is_empty(), "reading the page is recorded");

    // Supervisors download the envelope with their session, sign offline, and paste the file.
    for (n, name) in ["sup1", "sup2"].into_iter().enumerate() {
        let (client, csrf) = signed_in(&app, name).await;
        let home = client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(home.contains("1 release waits for your decision."), "{name}'s home page lists it");
        assert!(home.contains(&format!("{releases}#release-{id}")));
        let html = page(&app, &client).await;
        assert!(html.contains("Your decision") && !html.contains("Propose a release"), "{name}'s page");
        let envelope =
            client.get(app.url(&format!("/api/v1/releases/{id}/dossier"))).send().await.unwrap().text().await.unwrap();
        if n == 0 {
            // Pasting something else is refused next to the form, and kept there.
            let wrong = post_and_follow(
                &app,
                &client,
                &format!("{releases}/{id}/decision"),
                &[("csrf", &csrf), ("decision", "{}")],
            )
            .await;
            assert_eq!(outcomes(&wrong).len(), 1, "{}", outcomes(&wrong).join("|"));
            assert!(wrong.contains("{}</textarea>"));
            assert!(app.events("release.sign").await.is_empty());
        }
        let file = serde_json::to_string(&keys::sign(&envelope, &signers[n]).unwrap()).unwrap();
        let after = post_and_follow(
            &app,
            &client,
            &format!("{releases}/{id}/decision"),
            &[("csrf", &csrf), ("decision", &file)],
        )
        .await;
        let state = if n == 0 { "waiting for supervisors" } else { "authorised" };
        assert_eq!(outcomes(&after), [format!("your decision is recorded: release {id} (2.4.1) {state}")]);
        assert!(!after.contains("Your decision"), "{name} decides once");
    }
    let (regulator, _) = signed_in(&app, "regulator").await;
    let html = page(&app, &regulator).await;
    assert!(html.contains(r#"class="badge release-state state-authorised""#));
    assert!(html.contains(&format!("/releases?sha256={}", sha256(BINARY))), "a link to the public log");
    assert!(!html.contains("Propose a release") && !html.contains("Your decision"), "a regulator only reads");
    assert_eq!(app.events("release.authorise").await.len(), 1);
}

#[tokio::test]
async fn reviewers_do_not_see_releases_and_their_forms_are_refused() {
    let Room { app, keys: signers, staff } = room().await;
    let release = crate::release_flow::propose(&app, &staff, "9.9.9").await;
    let id = release["id"].as_i64().unwrap();
    let releases = format!("/pins/{}/releases", app.pin);

    let (reviewer, csrf) = signed_in(&app, "reviewer").await;
    let tree = reviewer.get(app.url(&format!("/pins/{}/tree", app.pin))).send().await.unwrap().text().await.unwrap();
    assert!(!tree.contains(r#"id="releases-tab""#), "no releases tab for a reviewer");
    let html = reviewer.get(app.url(&releases)).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("9.9.9"), "a reviewer reads no release");
    let artifact = format!("x::{}", sha256(b"x"));
    let fields = [("csrf", csrf.as_str()), ("version", "1.0"), ("artifact", artifact.as_str())];
    let response = reviewer.post(app.url(&releases)).header("origin", &app.address).form(&fields).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.events("release.propose").await.len(), 1, "only the staff's");

    // A supervisor's decision posted at another pin's address is refused before it is recorded.
    let envelope = crate::release_flow::dossier(&app, &staff, id).await;
    let file = serde_json::to_string(&keys::sign(&envelope, &signers[0]).unwrap()).unwrap();
    let (sup1, csrf) = signed_in(&app, "sup1").await;
    let other = format!("/pins/{}/releases/{id}/decision", app.pin.get() + 1000);
    let response = sup1
        .post(app.url(&other))
        .header("origin", &app.address)
        .form(&[("csrf", csrf.as_str()), ("decision", file.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(app.events("release.sign").await.is_empty());
    // Without the form's token nothing is decided either.
    let response = sup1
        .post(app.url(&format!("{releases}/{id}/decision")))
        .header("origin", &app.address)
        .form(&[("decision", file.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(app.events("release.sign").await.is_empty());
}
