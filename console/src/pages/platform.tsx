import { Page } from "../ui";

export const Platform = () => (
  <Page title="Platform">
    <p>Not built yet.</p>
  </Page>
);
