//! The sign-in page. Its form posts to `POST /login`, so it works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn Login() -> impl IntoView {
    let query = use_query_map();
    let message = move || {
        let query = query.read();
        if query.get("error").is_some() {
            Some(("error", "Wrong username or password."))
        } else if query.get("code").is_some() {
            Some(("error", "Enter the current code from your authenticator app (each code works once)."))
        } else if query.get("throttled").is_some() {
            Some(("error", "Too many attempts. Wait a minute and try again."))
        } else if query.get("expired").is_some() {
            Some(("info", "Your session has ended. Sign in again to continue."))
        } else if query.get("signed_out").is_some() {
            Some(("info", "You have signed out."))
        } else {
            None
        }
    };
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <Title text="Sign in · Clearroom"/>
        <main class="login">
            <div class="login-card">
                <h1 class="brand brand-large">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Clearroom"
                </h1>
                <p class="muted">"Transparency centre source review. Every access is recorded."</p>
                {move || {
                    message()
                        .map(|(kind, text)| {
                            view! { <div class=format!("notice notice-{kind}") role="status">{text}</div> }
                        })
                }}
                <form method="post" action="/login" class="stack">
                    <input type="hidden" name="next" value=next/>
                    <label>
                        "Username"
                        <input name="username" autocomplete="username" required autofocus/>
                    </label>
                    <label>
                        "Password"
                        <input
                            name="password"
                            type="password"
                            autocomplete="current-password"
                            required
                        />
                    </label>
                    <label>
                        "Authentication code "<span class="muted">"(if your account has one)"</span>
                        <input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7"/>
                    </label>
                    <button type="submit" class="button primary">"Sign in"</button>
                </form>
            </div>
        </main>
    }
}
