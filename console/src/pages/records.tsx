import { Page } from "../ui";

export const Records = () => (
  <Page title="Records">
    <p>Not built yet.</p>
  </Page>
);
