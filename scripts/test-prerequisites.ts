/**
 * `npm test`'s pretest: the suite needs a real redis-server (and redis-cli), a system Chromium
 * (driven by playwright-core, which never downloads a browser) and curl (the README's `curl -N`
 * example is run). Whatever is missing is installed with apt-get when this runs as root on Debian
 * or Ubuntu, as on a fresh CI machine; anywhere else the check stops with one line naming the
 * command that installs it, instead of a suite that fails halfway.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The Debian package that provides each missing prerequisite. */
const PACKAGES = { 'redis-server': 'redis-server', 'redis-cli': 'redis-server', chromium: 'chromium', curl: 'curl' };
type Prerequisite = keyof typeof PACKAGES;

/** Where test/helpers/chromium.ts looks for it. */
const chromiumPath = () => process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function missing(): Prerequisite[] {
  return (Object.keys(PACKAGES) as Prerequisite[]).filter((name) =>
    name === 'chromium' ? !existsSync(chromiumPath()) : !onPath(name),
  );
}

function isDebianLike(): boolean {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    return /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(release);
  } catch {
    return false;
  }
}

function aptInstall(packages: string[]): boolean {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (update.status !== 0) return false;
  const install = spawnSync('apt-get', ['install', '-y', ...packages], { stdio: ['ignore', 'inherit', 'inherit'], env });
  return install.status === 0;
}

function installCommand(packages: string[]): string {
  if (process.platform === 'darwin') {
    return 'brew install redis curl && brew install --cask chromium, then set SLUICE_CHROMIUM to its binary';
  }
  return `sudo apt-get install -y ${packages.join(' ')} (Debian/Ubuntu; set SLUICE_CHROMIUM if Chromium lives elsewhere)`;
}

const absent = missing();
if (absent.length > 0) {
  const packages = [...new Set(absent.map((name) => PACKAGES[name]))];
  const root = process.getuid?.() === 0;
  if (root && isDebianLike() && onPath('apt-get')) {
    process.stderr.write(`npm test: installing ${packages.join(', ')} with apt-get\n`);
    if (!aptInstall(packages) || missing().length > 0) {
      process.stderr.write(`npm test: apt-get could not install ${packages.join(' ')}\n`);
      process.exit(1);
    }
  } else {
    process.stderr.write(`npm test needs ${absent.join(', ')}: install with ${installCommand(packages)}\n`);
    process.exit(1);
  }
}
