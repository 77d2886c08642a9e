"""The Debian package and `cmake --install`, from the build directory ./test.sh has built
(nothing is compiled here).

The package is made with cpack, then installed by dpkg into a fresh root (`dpkg --root`,
an empty dpkg database): its maintainer scripts run with DPKG_ROOT set
(--force-script-chrootless, as they would for a chroot being set up) and create the hearth
account and the config's owner and mode in that root. The root holds no libevent, OpenSSL
... packages, so dependencies are not checked there (--force-depends); the programs run
with the host's libraries. Not root, the whole install runs under fakeroot.

Environment: HEARTH_BUILD_DIR (the build directory), CPACK and CMAKE (their programs).
"""

import glob
import gzip
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

BUILD_DIR = os.environ.get("HEARTH_BUILD_DIR", "")
CPACK = os.environ.get("CPACK", "cpack")
CMAKE = os.environ.get("CMAKE", "cmake")
SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UNIT = "usr/lib/systemd/system/hearthd.service"
CONFIG = "etc/hearth/hearth.conf"
MAN_PAGES = ("usr/share/man/man8/hearthd.8.gz", "usr/share/man/man8/hearthctl.8.gz",
             "usr/share/man/man5/hearth.conf.5.gz")
COMPLETION = "usr/share/bash-completion/completions/hearthctl"


def run(command, **options):
    return subprocess.run(command, capture_output=True, text=True, timeout=300, **options)


class Privileged:
    """Runs commands as root: directly when the test is root, else under one fakeroot
    session whose state file carries the owners and modes from command to command."""

    def __init__(self, directory):
        self.prefix = []
        if os.geteuid() != 0:
            state = os.path.join(directory, "fakeroot.state")
            open(state, "w").close()
            self.prefix = ["fakeroot", "-i", state, "-s", state]

    def run(self, command, **options):
        return run(self.prefix + command, **options)

    def owner_and_mode(self, path):
        """(uid, gid, octal mode) of `path` as the install left it."""
        result = self.run(["stat", "-c", "%u %g %a", path])
        uid, gid, mode = result.stdout.split()
        return int(uid), int(gid), mode


def account_id(root, database, name):
    """The numeric id of `name` in the root's /etc/passwd or /etc/group."""
    with open(os.path.join(root, "etc", database)) as entries:
        for line in entries:
            fields = line.split(":")
            if fields[0] == name:
                return int(fields[2])
    return None


def help_commands(hearthctl):
    """The commands `hearthctl --help` lists (two spaces, then the name)."""
    text = run([hearthctl, "--help"]).stdout
    return re.findall(r"^  ([a-z][a-z-]*)", text, re.MULTILINE)


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not BUILD_DIR:
            raise unittest.SkipTest("HEARTH_BUILD_DIR is not set (ctest sets it)")
        cls.directory = tempfile.mkdtemp(prefix="hearth-package-")
        cls.privileged = Privileged(cls.directory)
        output = os.path.join(cls.directory, "out")
        made = run([CPACK, "-G", "DEB", "--config", os.path.join(BUILD_DIR, "CPackConfig.cmake"),
                    "-B", output])
        debs = glob.glob(os.path.join(output, "hearth_*.deb"))
        if made.returncode != 0 or len(debs) != 1:
            shutil.rmtree(cls.directory, ignore_errors=True)
            raise AssertionError(f"cpack failed:\n{made.stdout}\n{made.stderr}")
        cls.deb = debs[0]
        cls.root = os.path.join(cls.directory, "root")
        cls.install = cls.install_into_fresh_root()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    @classmethod
    def install_into_fresh_root(cls):
        admin = os.path.join(cls.root, "var", "lib", "dpkg")
        for folder in ("info", "updates", "triggers"):
            os.makedirs(os.path.join(admin, folder))
        for name in ("status", "available"):
            open(os.path.join(admin, name), "w").close()
        return cls.privileged.run(["dpkg", f"--root={cls.root}", "--force-depends",
                                   "--force-script-chrootless", "--log=/dev/null",
                                   "--no-triggers", "--install", cls.deb])

    def installed(self, relative):
        return os.path.join(self.root, relative)

    def control_field(self, name):
        return run(["dpkg-deb", "--field", self.deb, name]).stdout.strip()

    def test_dpkg_installs_and_configures_it(self):
        self.assertEqual(self.install.returncode, 0, self.install.stdout + self.install.stderr)
        status = run(["dpkg-query", f"--root={self.root}", "-W", "-f=${Status}", "hearth"])
        self.assertEqual(status.stdout, "install ok installed", status.stderr)

    def test_depends_lists_the_shared_libraries_packages(self):
        depends = self.control_field("Depends")
        for package in ("libc6", "libevent", "libssl", "libhiredis", "libconfig++", "systemd",
                        "procps"):
            self.assertIn(package, depends)

    def test_programs_are_in_usr_bin_and_run(self):
        for program in ("hearthd", "hearthctl"):
            path = self.installed(f"usr/bin/{program}")
            self.assertTrue(os.access(path, os.X_OK), path)
            usage = run([path, "--help"])
            self.assertEqual(usage.returncode, 0, usage.stderr)
            self.assertIn(f"usage: {program}", usage.stdout)
        version = run([self.installed("usr/bin/hearthd"), "--version"])
        self.assertEqual(version.returncode, 0, version.stderr)
        self.assertIn(self.control_field("Version"), version.stdout)

    def test_config_is_a_conffile_owned_root_hearth_0640(self):
        conffiles = run(["dpkg-deb", "--info", self.deb, "conffiles"]).stdout.split()
        self.assertEqual(conffiles, ["/etc/hearth/hearth.conf"])
        with open(self.installed(CONFIG)) as installed, \
                open(os.path.join(SOURCE_DIR, "etc", "hearth.conf")) as shipped:
            self.assertEqual(installed.read(), shipped.read())
        hearth_group = account_id(self.root, "group", "hearth")
        self.assertIsNotNone(hearth_group, "the postinst made no hearth group in the root")
        self.assertIsNotNone(account_id(self.root, "passwd", "hearth"))
        self.assertEqual(self.privileged.owner_and_mode(self.installed(CONFIG)),
                         (0, hearth_group, "640"))

    def test_system_files_are_at_their_debian_paths(self):
        for relative in (UNIT, "usr/lib/sysusers.d/hearth.conf", "usr/lib/tmpfiles.d/hearth.conf",
                         COMPLETION) + MAN_PAGES:
            self.assertTrue(os.path.isfile(self.installed(relative)), relative)
        with open(self.installed(UNIT)) as unit:
            text = unit.read()
        self.assertIn("ExecStart=/usr/bin/hearthd --config /etc/hearth/hearth.conf", text)
        self.assertIn("AF_NETLINK", text)
        self.assertIn("#LoadCredential=tls-key:/etc/hearth/tls/key.pem", text)

    def test_systemd_analyze_verify_passes_on_the_installed_unit(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed")
        # With --root, verify looks for everything in the root: the units hearthd.service
        # pulls in (sysinit.target ...) and ExecReload's /bin/kill, which the package's
        # Depends (systemd, procps) bring. The root has only hearth's files, so the host's
        # copies are put there, as those packages would.
        units = os.path.join(self.root, "usr", "lib", "systemd", "system")
        for name in os.listdir("/lib/systemd/system"):
            if not os.path.lexists(os.path.join(units, name)):
                source = os.path.join("/lib/systemd/system", name)
                if os.path.isdir(source) and not os.path.islink(source):
                    shutil.copytree(source, os.path.join(units, name), symlinks=True)
                else:
                    shutil.copy2(source, os.path.join(units, name), follow_symlinks=False)
        os.makedirs(self.installed("bin"), exist_ok=True)
        if not os.path.exists(self.installed("bin/kill")):
            shutil.copy2("/bin/kill", self.installed("bin/kill"))
        # The unit's Documentation= names man pages: `man` finds them among the root's.
        environment = dict(os.environ, MANPATH=self.installed("usr/share/man") + ":")
        verify = run(["systemd-analyze", "verify", f"--root={self.root}", "/" + UNIT],
                     env=environment)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
        self.assertEqual(verify.stdout + verify.stderr, "")
        # The README's drop-in that hands a root-only TLS key over passes too.
        with open(self.installed(UNIT)) as unit:
            credential = re.search(r"^#(LoadCredential=tls-key:\S+)$", unit.read(), re.MULTILINE)
        self.assertIsNotNone(credential)
        drop_ins = self.installed("etc/systemd/system/hearthd.service.d")
        os.makedirs(drop_ins, exist_ok=True)
        with open(os.path.join(drop_ins, "tls-key.conf"), "w") as drop_in:
            drop_in.write(f"[Service]\n{credential.group(1)}\n")
        verify = run(["systemd-analyze", "verify", f"--root={self.root}", "/" + UNIT],
                     env=environment)
        self.assertEqual((verify.returncode, verify.stdout + verify.stderr), (0, ""))
        # So does the fast path's, shipped beside the docs for the operator to copy.
        shutil.copy2(self.installed("usr/share/doc/hearth/fast-path.conf"), drop_ins)
        verify = run(["systemd-analyze", "verify", f"--root={self.root}", "/" + UNIT],
                     env=environment)
        shutil.rmtree(drop_ins)
        self.assertEqual((verify.returncode, verify.stdout + verify.stderr), (0, ""))

    def test_man_pages_render_without_warnings(self):
        for relative in MAN_PAGES:
            with gzip.open(self.installed(relative), "rt") as page:
                source = page.read()
            checked = run(["groff", "-man", "-ww", "-z"], input=source)
            self.assertEqual((checked.returncode, checked.stderr), (0, ""), relative)
            shown = run(["man", "--warnings", "-l", self.installed(relative)],
                        env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING=""))
            self.assertEqual((shown.returncode, shown.stderr), (0, ""), relative)

    def test_man_page_documents_every_hearthctl_command(self):
        with gzip.open(self.installed("usr/share/man/man8/hearthctl.8.gz"), "rt") as page:
            documented = re.findall(r"^\.(?:B|BR|BI) \"?([a-z][a-z-]*)", page.read(),
                                    re.MULTILINE)
        commands = help_commands(self.installed("usr/bin/hearthctl"))
        self.assertGreater(len(commands), 10)
        self.assertEqual(sorted(set(commands) - set(documented)), [])

    def test_bash_completion_offers_the_commands_and_their_flags(self):
        def complete(*words):
            line = " ".join(words)
            script = (f"source {self.installed(COMPLETION)}\n"
                      f"COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}\n"
                      "_hearthctl; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
            path = self.installed("usr/bin") + ":" + os.environ["PATH"]
            environment = dict(os.environ, PATH=path)
            result = run(["bash", "--norc", "-c", script], env=environment)
            self.assertEqual(result.returncode, 0, result.stderr)
            return result.stdout.split()

        with open(os.path.join(SOURCE_DIR, "README.md")) as readme:
            block = readme.read().split("## hearthctl", 1)[1].split("```")[1]
        readme_commands = sorted(set(re.findall(r"^hearthctl ([a-z][a-z-]*)", block, re.MULTILINE)))
        self.assertEqual(sorted(complete("hearthctl", "''")), readme_commands)
        self.assertEqual(complete("hearthctl", "dr"), ["drain"])
        self.assertEqual(complete("hearthctl", "--json", "mint", "--s"), ["--session"])
        self.assertEqual(complete("hearthctl", "secrets", "''"), ["list", "add", "retire"])

    def test_installed_hearthd_checks_the_installed_config(self):
        hearthd = self.installed("usr/bin/hearthd")
        with open(self.installed(CONFIG)) as installed:
            text = installed.read()
        # As shipped it must be edited first, and --check-config says where.
        shipped = run([hearthd, "--check-config", "--config", self.installed(CONFIG)])
        self.assertEqual(shipped.returncode, 1, shipped.stdout + shipped.stderr)
        self.assertIn("relay.ipv4", shipped.stderr)
        # Edited as the README says, on ports free on this machine, it passes.
        port, admin_port = harness.free_port(), harness.free_port()
        edits = {
            'ipv4 = "CHANGE-ME";': 'ipv4 = "127.0.0.1";',
            'value = "CHANGE-ME";': f'value = "{harness.SECRET}";',
            'udp = [ "0.0.0.0:3478" ];': f'udp = [ "127.0.0.1:{port}" ];',
            'tcp = [ "0.0.0.0:3478" ];': f'tcp = [ "127.0.0.1:{port}" ];',
            'listen = "127.0.0.1:9478";': f'listen = "127.0.0.1:{admin_port}";',
            'path = "/var/log/hearth/audit.log";': 'path = "";',
        }
        for shipped_text, edited_text in edits.items():
            self.assertEqual(text.count(shipped_text), 1, shipped_text)
            text = text.replace(shipped_text, edited_text)
        edited = os.path.join(self.directory, "edited.conf")
        with open(edited, "w") as config:
            config.write(text)
        checked = run([hearthd, "--check-config", "--config", edited])
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
        self.assertIn(": ok", checked.stdout)


class CmakeInstallTest(unittest.TestCase):
    """`cmake --install` into a staging root (DESTDIR), with the default prefix and /usr."""

    def setUp(self):
        if not BUILD_DIR:
            self.skipTest("HEARTH_BUILD_DIR is not set (ctest sets it)")
        directory = tempfile.TemporaryDirectory(prefix="hearth-install-")
        self.addCleanup(directory.cleanup)
        self.stage = directory.name

    def install(self, prefix):
        result = run([CMAKE, "--install", BUILD_DIR, "--prefix", prefix],
                     env=dict(os.environ, DESTDIR=self.stage))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result

    def staged(self, path):
        return self.stage + path

    def test_usr_local_unit_runs_the_installed_binary_with_the_config_in_the_prefix(self):
        self.install("/usr/local")
        self.assertTrue(os.access(self.staged("/usr/local/bin/hearthd"), os.X_OK))
        with open(self.staged("/usr/local/lib/systemd/system/hearthd.service")) as unit:
            text = unit.read()
        self.assertIn("ExecStart=/usr/local/bin/hearthd --config /usr/local/etc/hearth/hearth.conf",
                      text)
        self.assertNotIn("/usr/bin/hearthd", text)
        with open(self.staged("/usr/local/lib/tmpfiles.d/hearth.conf")) as tmpfiles:
            self.assertIn("z /usr/local/etc/hearth/hearth.conf 0640 root hearth", tmpfiles.read())
        config = self.staged("/usr/local/etc/hearth/hearth.conf")
        self.assertEqual(oct(os.stat(config).st_mode & 0o777), "0o640")
        self.assertFalse(os.path.exists(self.staged("/etc/hearth")))

    def test_usr_puts_the_config_in_etc(self):
        self.install("/usr")
        self.assertTrue(os.path.isfile(self.staged("/etc/hearth/hearth.conf")))
        self.assertFalse(os.path.exists(self.staged("/usr/etc")))
        with open(self.staged("/usr/lib/systemd/system/hearthd.service")) as unit:
            self.assertIn("ExecStart=/usr/bin/hearthd --config /etc/hearth/hearth.conf",
                          unit.read())

    def test_reinstall_keeps_an_edited_config(self):
        self.install("/usr/local")
        config = self.staged("/usr/local/etc/hearth/hearth.conf")
        with open(config, "a") as edited:
            edited.write("# edited by the operator\n")
        again = self.install("/usr/local")
        with open(config) as kept:
            self.assertTrue(kept.read().endswith("# edited by the operator\n"))
        self.assertIn("Kept:", again.stdout)
        with open(config + ".dist") as shipped, \
                open(os.path.join(SOURCE_DIR, "etc", "hearth.conf")) as source:
            self.assertEqual(shipped.read(), source.read())


if __name__ == "__main__":
    unittest.main()
