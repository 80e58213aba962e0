//! Asking the user for a password the plan says the command needs (a private key's) while
//! the variable that carries it is unset: on the controlling terminal, with echo off, only
//! when standard input is a terminal. The answer goes into the guest's environment and
//! nowhere else. An interrupt while asking restores the terminal before the runner exits.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

use crate::plan::PasswordPrompt;

/// The longest answer read (cosign's passwords are typed, not pasted files).
const MAX_ANSWER: usize = 4096;

/// The terminal settings to put back, while echo is off.
#[cfg(unix)]
static SAVED: Mutex<Option<(i32, libc::termios)>> = Mutex::new(None);

/// The answer to `prompt`, or `None` when there is no terminal to ask on (the guest then
/// says which variable to set).
pub fn ask(prompt: &PasswordPrompt) -> Result<Option<String>> {
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let Ok(mut tty) = File::options().read(true).write(true).open("/dev/tty") else { return Ok(None) };
    let answer = read_hidden(&mut tty, &prompt.prompt)?;
    if prompt.confirm {
        let again = prompt.prompt.trim_end().trim_end_matches(':');
        let second = read_hidden(&mut tty, &format!("{again} again: "))?;
        if second != answer {
            bail!("the passwords entered do not match");
        }
    }
    Ok(Some(answer))
}

/// One line from `tty`, typed without echo.
fn read_hidden(tty: &mut File, prompt: &str) -> Result<String> {
    tty.write_all(prompt.as_bytes()).and_then(|()| tty.flush()).context("cannot write to the terminal")?;
    let echo_off = EchoOff::on(tty);
    let line = read_line(tty);
    drop(echo_off);
    let _ = tty.write_all(b"\n");
    line
}

/// Bytes up to the end of the line (without it).
fn read_line(input: &mut impl Read) -> Result<String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match input.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) if line.len() >= MAX_ANSWER => bail!("the password is longer than {MAX_ANSWER} bytes"),
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e).context("cannot read from the terminal"),
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).context("the password is not UTF-8")
}

/// Echo off on a terminal until dropped.
struct EchoOff;

impl EchoOff {
    #[cfg(unix)]
    fn on(tty: &File) -> EchoOff {
        use std::os::fd::AsRawFd;
        let fd = tty.as_raw_fd();
        // SAFETY: `fd` is an open terminal; `termios` is plain data filled by tcgetattr.
        unsafe {
            let mut settings: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(fd, &mut settings) != 0 {
                return EchoOff;
            }
            *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some((fd, settings));
            let mut quiet = settings;
            quiet.c_lflag &= !(libc::ECHO | libc::ECHONL);
            quiet.c_lflag |= libc::ICANON;
            libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet);
        }
        EchoOff
    }

    #[cfg(not(unix))]
    fn on(_tty: &File) -> EchoOff {
        EchoOff
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Put the terminal's settings back if a prompt turned echo off (also on an interrupt).
pub fn restore_terminal() {
    #[cfg(unix)]
    if let Some((fd, settings)) = SAVED.lock().unwrap_or_else(|e| e.into_inner()).take() {
        // SAFETY: `fd` is the terminal the settings were read from, still open while saved.
        unsafe {
            libc::tcsetattr(fd, libc::TCSAFLUSH, &settings);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_read_without_its_ending_and_bounded() {
        assert_eq!(read_line(&mut &b"s3cret\r\nrest"[..]).unwrap(), "s3cret");
        assert_eq!(read_line(&mut &b"no newline"[..]).unwrap(), "no newline");
        assert_eq!(read_line(&mut &b"\n"[..]).unwrap(), "");
        let long = vec![b'x'; MAX_ANSWER + 1];
        assert!(read_line(&mut &long[..]).unwrap_err().to_string().contains("longer than"));
    }
}
