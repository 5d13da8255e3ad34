// The console's canned replies panel (issue 18): an operator adds a personal
// reply, sees it listed with the global ones, and deletes it.
import { api, asAdmin, expect, expectAccessible, newOperator, signIn, test } from './fixtures'

test('an operator adds and deletes a personal canned reply', async ({ open }) => {
  const code = `g${Date.now().toString(36)}`
  await api('/support/canned-replies', {
    token: await asAdmin(),
    body: { scope: 'global', shortcode: code, title: 'Welcome', body: 'Welcome, {{customer.name | friend}}!' },
  })
  const parisa = await newOperator('Parisa')
  const { page } = await open({ viewport: { width: 1200, height: 900 } })
  await signIn(page, parisa)
  await page.getByText('Canned replies').click()
  const list = page.getByTestId('canned-list')
  await expect(list).toContainText(`/${code}`)
  await page.getByLabel('Shortcode').fill(`${code}-mine`)
  await page.getByLabel('Title', { exact: true }).fill('Thanks')
  await page.getByLabel('Text', { exact: true }).fill('Thank you, {{customer.name}}.')
  await page.getByRole('button', { name: 'Add canned reply' }).click()
  await expect(list.getByText(`/${code}-mine`)).toBeVisible()
  await expect(list).toContainText('Thanks (mine)')
  await expectAccessible(page, 'console canned replies')
  await page.getByRole('button', { name: `Delete /${code}-mine` }).click()
  await expect(list.getByText(`/${code}-mine`)).toHaveCount(0)
  await expect(list).toContainText(`/${code}`)
})
