// Admin: a support team with capacity, overflow, typing preview, business hours
// and members (issue 18). English, then Persian.
import { expect, expectAccessible, newOperator, screenshot, signInToMessenger, test } from './fixtures'
import { ADMIN } from './global-setup'

test('an admin creates a team with business hours and gives it members', async ({ open }) => {
  const [golnar, kian] = [await newOperator('Golnar'), await newOperator('Kian')]
  const { page, allow } = await open({ viewport: { width: 1200, height: 1100 } })
  allow(/status of 422 .*\/support\/teams/) // the bad time zone below, refused on purpose
  await signInToMessenger(page, ADMIN, '/admin/teams', (p) => p.getByRole('heading', { name: 'Support teams' }))
  const topic = `sales-${Date.now().toString(36)}`
  await page.getByLabel('Name', { exact: true }).fill('Sales')
  await page.getByLabel('Topic (a-z, 0-9, -), for the widget').fill(topic)
  await page.getByLabel(/^Capacity/).fill('5')
  await page.getByLabel(/^Overflow to anyone after/).fill('30')
  await page.getByLabel(/typing preview/).check()
  await page.getByLabel(/^Business hours \(closed/).check()
  await page.getByLabel('Saturday opens').fill('08:30')
  await page.getByLabel('Holidays (YYYY-MM-DD, one per line)').fill('2027-03-21\n2027-03-22')
  await expectAccessible(page, 'admin teams form')
  await page.getByRole('button', { name: 'Create team' }).click()

  const team = page.locator(`[data-team="${topic}"]`)
  await expect(team).toContainText('Capacity 5 · overflow after 30 s · typing preview on · hours in Asia/Tehran')
  await expect(team).toContainText('sat 08:30–17:00')
  await expect(team).toContainText('fri ×')
  await expect(team).toContainText('2027-03-21, 2027-03-22')
  await team.getByRole('combobox', { name: 'Add a member to Sales' }).selectOption({ label: 'Golnar' })
  await team.getByRole('button', { name: 'Add member' }).click()
  await team.getByRole('combobox', { name: 'Add a member to Sales' }).selectOption({ label: 'Kian' })
  await team.getByRole('button', { name: 'Add member' }).click()
  await expect(team.getByRole('button', { name: /^Remove .* from Sales$/ })).toHaveCount(2)
  await team.getByRole('button', { name: 'Remove Kian from Sales' }).click()
  await expect(team.getByRole('button', { name: /^Remove .* from Sales$/ })).toHaveCount(1)
  await expect(team.getByRole('button', { name: 'Remove Golnar from Sales' })).toBeVisible()

  // A bad time zone is refused with words, nothing made.
  await page.getByLabel('Name', { exact: true }).fill('Nowhere')
  await page.getByLabel('Topic (a-z, 0-9, -), for the widget').fill(`${topic}-x`)
  await page.getByLabel('Time zone (IANA, e.g. Asia/Tehran)').fill('Mars/Olympus')
  await page.getByRole('button', { name: 'Create team' }).click()
  await expect(page.getByRole('alert')).toContainText('Some of what you entered is not valid.')
  await expect(page.locator(`[data-team="${topic}-x"]`)).toHaveCount(0)
  await page.getByRole('button', { name: 'Dismiss' }).click()
  await screenshot(page, 'admin-teams')

  await page.getByRole('combobox', { name: 'Language' }).selectOption('fa')
  await expect(page.getByRole('heading', { name: 'تیم‌های پشتیبانی' })).toBeVisible()
  await expectAccessible(page, 'admin teams in Persian')
  await screenshot(page, 'admin-teams-rtl')
  void kian
  void golnar
})
