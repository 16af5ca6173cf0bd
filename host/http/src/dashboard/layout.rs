//! The frame of every page: the head, the navigation, who is signed in.

use maud::{DOCTYPE, Markup, html};

use super::assets::{SCRIPT, STYLESHEET};
use super::viewer::Viewer;

/// The sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Overview,
    Jobs,
}

impl Section {
    const ALL: [(Self, &'static str, &'static str); 2] = [
        (Self::Overview, "/", "Overview"),
        (Self::Jobs, "/jobs", "Jobs"),
    ];
}

/// A page of `section` titled `title` for `viewer`.
pub(super) fn page(viewer: &Viewer, section: Section, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, Some(&viewer.csrf)))
            body {
                header {
                    a.brand href="/" { "qntx" }
                    nav {
                        @for (each, href, label) in Section::ALL {
                            a href=(href) aria-current=[(each == section).then_some("page")] { (label) }
                        }
                    }
                    div.who {
                        span title="the token this session signed in with" {
                            (viewer.token.name) " · " (viewer.token.scope.as_str())
                        }
                        form method="post" action="/sign-out" {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// The page's head; `csrf` is put where the script finds it.
pub(super) fn head(title: &str, csrf: Option<&str>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            @if let Some(csrf) = csrf { meta name="csrf-token" content=(csrf); }
            title { (title) " · qntx" }
            link rel="stylesheet" href=(STYLESHEET);
            script src=(SCRIPT) defer {}
        }
    }
}
