import { Page } from "../ui";

export const Accept = () => (
  <Page title="Accept an invitation">
    <p>Not built yet.</p>
  </Page>
);
