//! A pseudo-terminal for runs that talk to the user: the child gets it as its controlling
//! terminal and standard input; the test answers what the terminal shows.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::dir::{Run, run_to_end};

/// How long a run may take to show what a test waits for.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// Runs `cmd` on a new pseudo-terminal; for each `(shown, typed)`, waits until the terminal
/// has shown `shown` and types `typed`. The run's outcome, and everything the terminal
/// showed (what the user would see, echo included).
pub fn run_on_terminal(mut cmd: Command, shown: &str, dialogue: &[(&str, &str)]) -> (Run, String) {
    let (mut master, slave) = open_pty();
    cmd.stdin(Stdio::from(slave));
    // SAFETY: between fork and exec only async-signal-safe calls: setsid, ioctl.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let screen = Arc::new(Mutex::new(Vec::new()));
    let mut reader = master.try_clone().expect("clone the terminal");
    let seen = Arc::clone(&screen);
    let screen_reader = std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        // Ends with an error once the child closes its side.
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let dialogue: Vec<(String, String)> = dialogue.iter().map(|(s, t)| (s.to_string(), t.to_string())).collect();
    let screen_in_thread = Arc::clone(&screen);
    let typist = std::thread::spawn(move || {
        let mut from = 0;
        for (expected, typed) in dialogue {
            let started = Instant::now();
            loop {
                let text = String::from_utf8_lossy(&screen_in_thread.lock().unwrap()[from..]).into_owned();
                if let Some(at) = text.find(&expected) {
                    from += at + expected.len();
                    break;
                }
                assert!(started.elapsed() < WAIT_LIMIT, "the terminal never showed {expected:?}; it showed {text:?}");
                std::thread::sleep(Duration::from_millis(10));
            }
            master.write_all(typed.as_bytes()).expect("type on the terminal");
        }
        master
    });
    let run = run_to_end(cmd, shown.to_string());
    let _master = typist.join().expect("the dialogue");
    // The run is over and its side of the terminal closed: the reader has seen everything.
    screen_reader.join().expect("the terminal reader");
    let text = String::from_utf8_lossy(&screen.lock().unwrap()).into_owned();
    (run, text)
}

/// A new pseudo-terminal: its master side and its slave side.
fn open_pty() -> (File, OwnedFd) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors into the given integers; the null arguments are allowed.
    let status =
        unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(status, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned here alone.
    unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}
