//! setlock against daemontools' own (/usr/bin/setlock from Debian's daemontools, which
//! .ci/run installs): the same output and exit code for usage, a held lock with and without
//! -n and -x, a file that cannot be opened, a program that cannot be run; the lock held for
//! as long as the program runs, and the file created.

use crate::common::{bin, run, Out, TmpDir};

const DJB: &str = "/usr/bin/setlock";

/// `setlock args` (ours or djb's) through sh, in `t`; the name of the program printed as
/// `setlock` either way.
fn both(t: &TmpDir, script: &str) -> [Out; 2] {
    assert!(
        std::path::Path::new(DJB).exists(),
        "{DJB} is missing: install daemontools"
    );
    [bin("setlock").display().to_string(), DJB.to_string()]
        .map(|prog| run("sh").args(["-c", script, "sh", &prog]).cwd(&t.0).go())
}

#[test]
fn the_same_results_as_daemontools_setlock() {
    let t = TmpDir::new("setlock");
    let cases = [
        // usage
        r#""$1"; echo "rc=$?"; "$1" -n f; echo "rc=$?""#,
        // a lock held by an outer setlock: -n fails (111), -nx says nothing (0)
        r#""$1" -n f sh -c '"$0" -n f echo inner; echo "inner $?"; "$0" -nx f echo inner; echo "inner $?"' "$1""#,
        // the file cannot be opened: 111, or 0 with -x
        r#""$1" no/such/dir true; echo "rc=$?"; "$1" -x no/such/dir true; echo "rc=$?""#,
        // the program cannot be run; the program's own code is passed on
        r#""$1" f ./no-such-program; echo "rc=$?"; "$1" f sh -c 'exit 7'; echo "rc=$?""#,
        // -N waits: the inner one runs once the outer one has let go
        r#"rm -f held; "$1" f sh -c ': > held; sleep 0.2; echo outer' &
while [ ! -e held ]; do sleep 0.01; done; "$1" -N f echo after; wait"#,
    ];
    for case in cases {
        let [ours, djb] = both(&t, case);
        assert_eq!(
            (ours.code, ours.stdout(), ours.stderr()),
            (djb.code, djb.stdout(), djb.stderr()),
            "{case}"
        );
    }
    let [o, _] = both(&t, r#""$1" new-lock true"#);
    assert_eq!(o.code, 0);
    assert!(t.join("new-lock").exists());
}

#[test]
fn expected_texts() {
    let t = TmpDir::new("setlock-texts");
    let [o, _] = both(&t, r#""$1" -n f sh -c '"$0" -n f true' "$1""#);
    o.expect(
        111,
        "",
        "setlock: fatal: unable to lock f: temporary failure\n",
    );
    let [o, _] = both(&t, r#""$1" -x"#);
    o.expect(
        100,
        "",
        "setlock: usage: setlock [ -nNxX ] file program [ arg ... ]\n",
    );
}
