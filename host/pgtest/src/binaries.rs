//! Finding the PostgreSQL server programs, installing them when they are missing, and the
//! user to run them as (the server refuses to run as root).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the server programs are and whom they run as.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// The directory holding `initdb`, `postgres`, `pg_isready` and `createdb`.
    pub bin: PathBuf,
    /// The user and group id to run the server as: `postgres` when the tests run as root,
    /// else the tests' own user.
    pub run_as: Option<(u32, u32)>,
}

impl Binaries {
    /// The newest server installed on this machine, installing Debian's `postgresql`
    /// package first when there is none and this process may (root, `apt-get` present).
    ///
    /// # Errors
    ///
    /// What was looked for and why nothing could be installed.
    pub fn find_or_install() -> Result<Self, String> {
        let bin = match find() {
            Some(bin) => bin,
            None => {
                install()?;
                find().ok_or_else(|| {
                    "apt-get installed postgresql, but no initdb appeared under \
                     /usr/lib/postgresql/*/bin"
                        .to_owned()
                })?
            }
        };
        let run_as = if is_root() {
            Some(server_user()?)
        } else {
            None
        };
        Ok(Self { bin, run_as })
    }

    /// A command for the program `name` of the server's directory, run as the server's user.
    pub fn command(&self, name: &str) -> Command {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(self.bin.join(name));
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid).gid(gid);
        }
        command
    }
}

/// The `bin` directory of the newest `/usr/lib/postgresql/<major>`, or of `initdb` on the
/// `PATH`.
fn find() -> Option<PathBuf> {
    let mut majors: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    majors.sort();
    if let Some((_, bin)) = majors.pop() {
        return Some(bin);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
}

/// `apt-get install postgresql`, as root only.
fn install() -> Result<(), String> {
    let missing = "no PostgreSQL server on this machine (looked for /usr/lib/postgresql/*/bin/initdb \
                   and initdb on PATH)";
    if !is_root() || !Path::new("/usr/bin/apt-get").is_file() {
        return Err(format!(
            "{missing}; install Debian's postgresql package (apt-get install postgresql) and run \
             the tests again"
        ));
    }
    eprintln!("qntx-pgtest: {missing}; installing Debian's postgresql package");
    let run = |args: &[&str]| -> Result<(), String> {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("running apt-get: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("apt-get {} failed: {status}", args.join(" ")))
        }
    };
    if run(&[
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "postgresql",
    ])
    .is_err()
    {
        run(&["update", "-q"])?;
        run(&[
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "postgresql",
        ])?;
    }
    Ok(())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next())
            == Some("0")
    })
}

/// The `postgres` user's ids, from `/etc/passwd`; the user is created when missing.
fn server_user() -> Result<(u32, u32), String> {
    if let Some(ids) = lookup("postgres") {
        return Ok(ids);
    }
    let status = Command::new("useradd")
        .args(["--system", "--user-group", "--no-create-home", "postgres"])
        .status()
        .map_err(|e| format!("running useradd: {e}"))?;
    if !status.success() {
        return Err(format!("useradd postgres failed: {status}"));
    }
    lookup("postgres").ok_or_else(|| "useradd made no postgres user".to_owned())
}

fn lookup(user: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == user).then_some(())?;
        let uid = fields.nth(1)?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some((uid, gid))
    })
}
