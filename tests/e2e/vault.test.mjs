// The vault through the real extension, beyond the smoke test: unlock back-off that
// survives a worker restart, password change, encrypted backup export/import, and a
// tampered vault reported as corrupted and never overwritten.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness } from './lib/fixture.mjs';
import { openWallet } from './lib/wallet.mjs';

const PASSWORD = 'first master password';
const NEW_PASSWORD = 'second master password';
const BACKUP_PASSWORD = 'backup only password';
const SECRET = `sk-proj-vaulte2e${Math.random().toString(36).slice(2)}${Date.now()}`;

describe('vault: back-off, password change, backup, corruption', () => {
  let h;
  let wallet;
  before(async () => {
    h = await startHarness();
    wallet = await openWallet(h.browser);
    await wallet.create(PASSWORD);
    await wallet.addCredential({ provider: 'openai', label: 'Main', secret: SECRET });
  });
  after(async () => {
    await h?.teardown();
  });

  test('a weak master password is refused by the core', async () => {
    // A second wallet cannot be created anyway; the policy is checked on password change.
    const error = await wallet.expectError('vault.changePassword', { oldPassword: PASSWORD, newPassword: 'password1' });
    assert.equal(error.code, 'WEAK_PASSWORD');
  });

  test('creating over an existing wallet is refused', async () => {
    const error = await wallet.expectError('vault.create', { password: 'another long password' });
    assert.equal(error.code, 'VAULT_EXISTS');
  });

  test('five wrong passwords start a back-off that survives a worker restart', async () => {
    await wallet.lock();
    for (let i = 0; i < 5; i += 1) {
      const error = await wallet.expectError('vault.unlock', { password: `wrong password ${i}` });
      assert.equal(error.code, 'WRONG_PASSWORD');
    }
    const blocked = await wallet.expectError('vault.unlock', { password: PASSWORD });
    assert.equal(blocked.code, 'UNLOCK_BACKOFF');
    assert.ok(blocked.retryAfterMs > 0);

    await h.browser.stopServiceWorker();
    const status = await h.browser.wakeServiceWorker({ cmd: 'vault.status' });
    assert.equal(status.value.state, 'locked');
    assert.equal(status.value.failedAttempts, 5);
    assert.ok(status.value.retryAfterMs > 0, 'the back-off is still running after the restart');
    const still = await wallet.expectError('vault.unlock', { password: PASSWORD });
    assert.equal(still.code, 'UNLOCK_BACKOFF');
  });

  test('after the back-off the right password unlocks and resets the counter', async () => {
    // Move the last failure into the past instead of waiting for it.
    await h.browser.serviceWorker.evaluate(async () => {
      const { unlockThrottle } = await chrome.storage.local.get('unlockThrottle');
      const throttle = JSON.parse(unlockThrottle);
      throttle.lastFailureMs -= 60 * 60 * 1000;
      await chrome.storage.local.set({ unlockThrottle: JSON.stringify(throttle) });
    });
    await h.browser.stopServiceWorker();
    await h.browser.wakeServiceWorker({ cmd: 'vault.status' });
    await wallet.unlock(PASSWORD);
    assert.equal((await wallet.status()).failedAttempts, 0);
  });

  test('changing the password: the old one stops working, the new one opens the same keys', async () => {
    const before = await wallet.listCredentials();
    await wallet.changePassword(PASSWORD, NEW_PASSWORD);
    await wallet.lock();
    assert.equal((await wallet.expectError('vault.unlock', { password: PASSWORD })).code, 'WRONG_PASSWORD');
    await wallet.unlock(NEW_PASSWORD);
    assert.deepEqual(await wallet.listCredentials(), before);
  });

  test('a wrong old password changes nothing', async () => {
    const error = await wallet.expectError('vault.changePassword', { oldPassword: 'not the password', newPassword: 'a third long password' });
    assert.equal(error.code, 'WRONG_PASSWORD');
    await wallet.lock();
    await wallet.unlock(NEW_PASSWORD);
  });

  test('exporting a backup asks for the master password: without it or with a wrong one → WRONG_PASSWORD', async () => {
    const without = await wallet.expectError('backup.export', { password: BACKUP_PASSWORD });
    assert.equal(without.code, 'WRONG_PASSWORD', 'an export without the master password');
    assert.equal((await wallet.status()).failedAttempts, 0, 'a missing password is not a guess');
    const wrong = await wallet.expectError('backup.export', { currentPassword: 'not the master password', password: BACKUP_PASSWORD });
    assert.equal(wrong.code, 'WRONG_PASSWORD', 'an export with a wrong master password');
    // A wrong guess counts toward the unlock back-off, as a wrong unlock does.
    const status = await wallet.status();
    assert.equal(status.failedAttempts, 1);
    assert.equal(status.state, 'unlocked', 'a wrong guess does not lock the wallet');
    // The right one (the password was changed above) exports, and takes the count back.
    const { data } = await wallet.call('backup.export', { currentPassword: NEW_PASSWORD, password: BACKUP_PASSWORD });
    assert.ok(typeof data === 'string' && data.length > 0);
    assert.equal((await wallet.status()).failedAttempts, 0);
  });

  test('an encrypted backup restores a deleted key; garbage and wrong passwords are refused', async () => {
    const { data } = await wallet.call('backup.export', { currentPassword: NEW_PASSWORD, password: BACKUP_PASSWORD });
    assert.ok(!Buffer.from(data, 'base64').toString('latin1').includes(SECRET), 'the backup is not encrypted');
    const [key] = await wallet.listCredentials();
    await wallet.removeCredential(key.id);
    assert.equal((await wallet.listCredentials()).length, 0);

    assert.equal((await wallet.expectError('backup.import', { data: 'bm90IGEgYmFja3Vw', password: BACKUP_PASSWORD })).code, 'BACKUP_INVALID');
    assert.equal((await wallet.expectError('backup.import', { data, password: 'wrong backup password' })).code, 'WRONG_PASSWORD');
    assert.equal((await wallet.listCredentials()).length, 0, 'a failed import changed the vault');

    const { imported } = await wallet.call('backup.import', { data, password: BACKUP_PASSWORD });
    assert.equal(imported, 1);
    const [restored] = await wallet.listCredentials();
    assert.equal(restored.id, key.id);
    assert.equal(restored.maskedKey, key.maskedKey);
  });

  test('auto-lock: idle time past the setting locks the wallet, even across a worker restart', async () => {
    const status = await wallet.call('settings.setAutoLock', { minutes: 5 });
    assert.equal(status.autoLockMinutes, 5);
    // Pretend the last activity was 6 minutes ago, then let a fresh worker load that state.
    await h.browser.serviceWorker.evaluate(async () => {
      await chrome.storage.session.set({ lastActivityMs: Date.now() - 6 * 60 * 1000 });
    });
    await h.browser.stopServiceWorker();
    const after = await h.browser.wakeServiceWorker({ cmd: 'vault.status' });
    assert.equal(after.value.state, 'locked');
    const stored = await h.browser.serviceWorker.evaluate(async () => Object.keys(await chrome.storage.session.get(null)));
    assert.ok(!stored.includes('vaultKey'), 'the derived key stayed in session storage after auto-lock');
    await wallet.unlock(NEW_PASSWORD);
    assert.equal((await wallet.status()).autoLockMinutes, 5, 'the setting is kept in the vault');
  });

  test('a tampered vault is reported as corrupted and is never overwritten', async () => {
    await wallet.lock();
    const tampered = await h.browser.serviceWorker.evaluate(async () => {
      const { vault } = await chrome.storage.local.get('vault');
      const bytes = Uint8Array.fromBase64(vault);
      bytes[bytes.length - 5] ^= 0x40; // inside the ciphertext
      const changed = bytes.toBase64();
      await chrome.storage.local.set({ vault: changed });
      return changed;
    });
    // The file changed behind the worker's back (an offline edit): a fresh worker reads it.
    await h.browser.stopServiceWorker();
    await h.browser.wakeServiceWorker({ cmd: 'vault.status' });
    const error = await wallet.expectError('vault.unlock', { password: NEW_PASSWORD });
    assert.equal(error.code, 'VAULT_CORRUPTED');
    assert.equal((await wallet.expectError('vault.create', { password: 'a brand new password' })).code, 'VAULT_EXISTS');
    const stored = await h.browser.serviceWorker.evaluate(async () => (await chrome.storage.local.get('vault')).vault);
    assert.equal(stored, tampered, 'the corrupted vault was rewritten');
  });

  test('an unreadable (truncated) vault is reported as corrupted too', async () => {
    await h.browser.serviceWorker.evaluate(async () => {
      await chrome.storage.local.set({ vault: 'S0ZPQgEB' });
    });
    await h.browser.stopServiceWorker();
    const status = await h.browser.wakeServiceWorker({ cmd: 'vault.status' });
    assert.equal(status.value.state, 'locked');
    assert.equal((await wallet.expectError('vault.unlock', { password: NEW_PASSWORD })).code, 'VAULT_CORRUPTED');
  });
});
