//! qmail-clean: the two request shapes remove exactly their files, a missing file is not an
//! error, a failed unlink answers `!`, anything malformed gets exactly one `x` and no action,
//! end of input ends it, stale pid/ files are swept.
//! Not tested here: the sweep after every 30 requests (the same code as at startup).

use crate::common::{home, home_lock, install_tree, run};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

fn q(rel: &str) -> PathBuf {
    home().join("queue").join(rel)
}

fn s(id: u64) -> u64 {
    id % qlib::conf::split()
}

fn touch(rel: &str) {
    std::fs::write(q(rel), b"x").expect("create queue file");
}

#[test]
fn removes_the_right_files() {
    let _l = home_lock();
    install_tree(&home());
    let (m100, m200) = (
        format!("mess/{}/100", s(100)),
        format!("mess/{}/200", s(200)),
    );
    for f in [
        "intd/100", "todo/100", &m100, "intd/200", &m200, "todo/200", "todo/300",
    ] {
        touch(f);
    }
    run("qmail-clean")
        .stdin(b"todo/100\0foop/200\0todo/300\0foop/999\0")
        .go()
        .expect(0, "++++", "");
    for gone in ["intd/100", "todo/100", "intd/200", &m200, "todo/300"] {
        assert!(!q(gone).exists(), "{gone} should be gone");
    }
    for kept in [&m100, "todo/200"] {
        assert!(q(kept).exists(), "{kept} should stay");
    }
}

#[test]
fn malformed_requests_get_one_x_each() {
    let _l = home_lock();
    install_tree(&home());
    for f in ["todo/12", "intd/12", "todo/1"] {
        touch(f);
    }
    let long = format!("todo/{}\0", "1".repeat(200));
    let mut input = b"bogus\0todo/12x\0todo/\0mess/12\0todo/012\0../../x\0".to_vec();
    input.extend_from_slice(long.as_bytes());
    input.extend_from_slice(b"todo/1\0");
    run("qmail-clean")
        .stdin(&input)
        .go()
        .expect(0, "xxxxxxx+", "");
    assert!(
        q("todo/12").exists() && q("intd/12").exists(),
        "x means nothing was done"
    );
    assert!(!q("todo/1").exists());
}

#[test]
fn failed_unlink_answers_bang() {
    let _l = home_lock();
    install_tree(&home());
    std::fs::create_dir(q("intd/400")).unwrap();
    touch("intd/400/keep");
    touch("todo/400");
    run("qmail-clean")
        .stdin(b"todo/400\0")
        .go()
        .expect(0, "!", "");
}

#[test]
fn end_of_input_and_partial_requests() {
    let _l = home_lock();
    install_tree(&home());
    touch("todo/5");
    run("qmail-clean").go().expect(0, "", "");
    run("qmail-clean").stdin(b"todo/5").go().expect(0, "", "");
    assert!(
        q("todo/5").exists(),
        "a request without its NUL is not acted on"
    );
}

#[test]
fn sweeps_stale_pid_files() {
    let _l = home_lock();
    install_tree(&home());
    touch("pid/old");
    touch("pid/new");
    let old = SystemTime::now() - Duration::from_secs(2 * 86400);
    let f = std::fs::File::options()
        .write(true)
        .open(q("pid/old"))
        .unwrap();
    f.set_times(
        std::fs::FileTimes::new()
            .set_accessed(old)
            .set_modified(old),
    )
    .unwrap();
    run("qmail-clean").go().expect(0, "", "");
    assert!(!q("pid/old").exists());
    assert!(q("pid/new").exists());
}

#[test]
fn needs_its_queue() {
    let _l = home_lock();
    install_tree(&home());
    std::fs::remove_dir_all(home().join("queue")).unwrap();
    run("qmail-clean").go().expect(
        111,
        "",
        "qmail-clean: fatal: unable to switch to queue directory: file does not exist\n",
    );
}
