//! The pins the signed-in person may browse.

use crate::api::list_pins;
use crate::components::layout::{ErrorPanel, Loading, Page};
use crate::components::time::Time;
use crate::model::PinSummary;
use leptos::prelude::*;

#[component]
pub fn Home() -> impl IntoView {
    let pins = Resource::new(|| (), |_| list_pins());
    view! {
        <Page title="Pins">
            <main class="content narrow">
                <h1>"Pinned revisions"</h1>
                <p class="muted">
                    "Each pin is one immutable commit. What you open here is recorded in the audit log."
                </p>
                <Suspense fallback=Loading>
                    {move || Suspend::new(async move {
                        match pins.await {
                            Ok(pins) if pins.is_empty() => {
                                view! {
                                    <div class="empty">
                                        <h2>"No pins to show"</h2>
                                        <p>
                                            "You have no active access grant. Ask the centre's staff for one; access starts and ends at the times they set."
                                        </p>
                                    </div>
                                }
                                    .into_any()
                            }
                            Ok(pins) => view! { <PinTable pins/> }.into_any(),
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </main>
        </Page>
    }
}

#[component]
pub fn PinTable(pins: Vec<PinSummary>) -> impl IntoView {
    let rows = pins
        .into_iter()
        .map(|pin| {
            let href = format!("/pins/{}/tree", pin.id);
            let short = pin.commit_id.chars().take(12).collect::<String>();
            view! {
                <tr>
                    <td>
                        <a href=href class="strong">{pin.label.clone()}</a>
                        {pin.withdrawn.then(|| view! { <span class="badge">"withdrawn"</span> })}
                    </td>
                    <td>{pin.repository.clone()}</td>
                    <td>
                        <code title=pin.commit_id.clone()>{short}</code>
                    </td>
                    <td>
                        <Time ms=pin.pinned_at_ms/>
                    </td>
                    <td>
                        {match pin.access_ends_ms {
                            Some(ms) => view! { <Time ms/> }.into_any(),
                            None => view! { <span class="muted">"—"</span> }.into_any(),
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="grid">
            <thead>
                <tr>
                    <th>"Pin"</th>
                    <th>"Repository"</th>
                    <th>"Commit"</th>
                    <th>"Pinned"</th>
                    <th>"Your access ends"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
