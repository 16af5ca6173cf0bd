//! Headless Chromium driven over WebDriver: Debian's `chromium` and `chromedriver` (installed
//! with `apt-get` when missing and the tests run as root), spoken to with plain HTTP and JSON.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A Chromium session of its own (a fresh profile), ended when dropped.
pub struct Browser {
    driver: Child,
    session: String,
    base: String,
    _profile: tempfile::TempDir,
}

/// A found element.
#[derive(Debug, Clone)]
pub struct Element(String);

/// Whether Chromium and ChromeDriver are there, installing them once if they are not; `Err`
/// says why they cannot be.
pub fn available() -> Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED.get_or_init(install).clone()
}

fn install() -> Result<(), String> {
    let present = || Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file();
    if present() {
        return Ok(());
    }
    let missing = format!("no {CHROMIUM} and {CHROMEDRIVER} on this machine");
    if !Path::new("/usr/bin/apt-get").is_file() {
        return Err(format!(
            "{missing}; install Debian's chromium and chromium-driver packages"
        ));
    }
    eprintln!("browser tests: {missing}; installing Debian's chromium and chromium-driver");
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("running apt-get: {e}"))
            .map(|status| status.success())
    };
    let packages = [
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "chromium",
        "chromium-driver",
    ];
    let installed = apt(&packages)? || (apt(&["update", "-q"])? && apt(&packages)?);
    if !installed {
        return Err(format!(
            "{missing}, and apt-get install chromium chromium-driver failed (it needs root)"
        ));
    }
    if present() {
        Ok(())
    } else {
        Err(format!("apt-get installed chromium, but {missing}"))
    }
}

impl Browser {
    /// Start ChromeDriver on a free port and open a headless session.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while call(&base, "GET", "/status", None).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver never answered on {base}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--window-size=1280,900".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let created = call(&base, "POST", "/session", Some(&capabilities))
            .unwrap_or_else(|e| panic!("chromedriver opens no session: {e}"));
        let session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {created}"))
            .to_owned();
        Self {
            driver,
            session,
            base,
            _profile: profile,
        }
    }

    fn command(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        self.try_command(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    fn try_command(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        call(
            &self.base,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        )
    }

    /// Load `url` and wait for the page.
    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(&json!({"url": url})));
    }

    /// The page's URL.
    pub fn url(&self) -> String {
        self.command("GET", "/url", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The elements matching the CSS `selector`, none if there are none.
    pub fn find_all(&self, selector: &str) -> Vec<Element> {
        let found = self.command(
            "POST",
            "/elements",
            Some(&json!({"using": "css selector", "value": selector})),
        );
        found
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|element| element[ELEMENT].as_str())
            .map(|id| Element(id.to_owned()))
            .collect()
    }

    /// The one element matching `selector`, waiting up to 10 s for it.
    pub fn find(&self, selector: &str) -> Element {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(element) = self.find_all(selector).into_iter().next() {
                return element;
            }
            assert!(
                Instant::now() < deadline,
                "no element '{selector}' on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Click `element`.
    pub fn click(&self, element: &Element) {
        self.command(
            "POST",
            &format!("/element/{}/click", element.0),
            Some(&json!({})),
        );
    }

    /// Type `text` into `element`.
    pub fn type_into(&self, element: &Element, text: &str) {
        self.command(
            "POST",
            &format!("/element/{}/value", element.0),
            Some(&json!({"text": text})),
        );
    }

    /// The visible text of the first element matching `selector` now; `None` when there is
    /// none, or the page was replaced between finding it and reading it (a reload).
    pub fn text_now(&self, selector: &str) -> Option<String> {
        let element = self.find_all(selector).into_iter().next()?;
        let text = self
            .try_command("GET", &format!("/element/{}/text", element.0), None)
            .ok()?;
        text.as_str().map(str::to_owned)
    }

    /// A DOM property of the first element matching `selector` now, as [`Browser::text_now`].
    pub fn property_now(&self, selector: &str, name: &str) -> Option<Value> {
        let element = self.find_all(selector).into_iter().next()?;
        self.try_command(
            "GET",
            &format!("/element/{}/property/{name}", element.0),
            None,
        )
        .ok()
    }

    /// Write a PNG of the page to `path`.
    pub fn screenshot(&self, path: &Path) {
        let data = self.command("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = call(
            &self.base,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// One WebDriver request: the `value` of its answer, or the error it names.
fn call(base: &str, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("Content-Type", "application/json")
        .body(body.map(Value::to_string).unwrap_or_default())
        .map_err(|e| e.to_string())?;
    let mut response = agent.run(request).map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .map_err(|e| e.to_string())?;
    let answer: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    if status == 200 {
        Ok(answer["value"].clone())
    } else {
        Err(format!("{status}: {}", answer["value"]))
    }
}
