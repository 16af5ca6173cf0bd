//! Workers woken by commits of other connections ([`qntx_core::pulse::watch`]) on each backend.

use std::sync::Arc;
use std::time::Duration;

use qntx_core::pulse::watch::{WATCH_INTERVAL, watch};
use qntx_core::pulse::{NewJob, Wakeup, store};

use crate::backends::on_each_backend;

on_each_backend! {
    fn a_commit_on_another_connection_wakes_the_workers(backend) {
        let writer = backend.connect().unwrap();
        let wakeup = Arc::new(Wakeup::default());
        let watcher = {
            let wakeup = wakeup.clone();
            let mut conn = backend.connect().unwrap();
            std::thread::spawn(move || watch(conn.as_mut(), &wakeup, WATCH_INTERVAL))
        };
        // The watcher may not have read the version yet when a commit lands: commit until one
        // is seen.
        let before = wakeup.generation();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while wakeup.generation() == before {
            assert!(
                std::time::Instant::now() < deadline,
                "no wakeup after commits"
            );
            store::enqueue(&**writer, &NewJob::new("h/a", serde_json::json!({})), 0).unwrap();
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50));
        let quiet = wakeup.generation();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(wakeup.generation(), quiet, "no wakeup without a commit");
        wakeup.stop();
        watcher.join().unwrap().unwrap();
    }
}
