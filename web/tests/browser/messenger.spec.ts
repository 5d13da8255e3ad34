import {
  bubbles,
  conversation,
  expect,
  expectAccessible,
  newPerson,
  say,
  screenshot,
  signInToMessenger,
  test,
} from './fixtures'

test('A and B open one single chat from each side and talk live, with typing and unread counts', async ({ open }) => {
  const [ali, bahar] = [await newPerson('Ali'), await newPerson('Bahar')]
  const { page: a } = await open({ viewport: { width: 1200, height: 800 } })
  const { page: b } = await open({ viewport: { width: 1200, height: 800 } })
  await signInToMessenger(a, ali)
  await signInToMessenger(b, bahar)

  for (const [page, other] of [
    [a, bahar],
    [b, ali],
  ] as const) {
    await page.getByRole('button', { name: 'New chat' }).click()
    await page.getByLabel('Find people').fill(other.username)
    await page.getByRole('button', { name: new RegExp(other.name) }).click()
    await expect(page.getByRole('heading', { name: other.name })).toBeVisible()
  }
  await expect(a.url()).toBe(b.url()) // one chat, whoever opened it first
  await say(a, 'Hello Bahar')
  await expect(bubbles(b, 'Hello Bahar')).toHaveCount(1)
  // typing shows and clears
  await b.getByRole('textbox', { name: 'Message' }).fill('typing…')
  await expect(a.getByTestId('typing')).toHaveText('Bahar is typing…')
  await b.getByRole('textbox', { name: 'Message' }).fill('')
  await expect(a.getByTestId('typing')).toHaveText('')

  // B looks elsewhere: A's messages count as unread there, and clear on opening.
  await b.getByRole('link', { name: 'Settings' }).click()
  await b.getByRole('link', { name: 'Messages' }).click()
  await say(a, 'one')
  await say(a, 'two')
  await expect(conversation(b, /Ali/).getByTestId('unread')).toHaveText('2')
  await conversation(b, /Ali/).click()
  await expect(bubbles(b, 'two')).toHaveCount(1)
  await expect(b.getByTestId('new-messages')).toBeVisible()
  await expect(conversation(b, /Ali/).getByTestId('unread')).toHaveCount(0)
  await expect(a.getByTestId('read-state')).toHaveText('Seen')
  await expectAccessible(a, 'messenger')
  await screenshot(a, 'messenger-single')
})
