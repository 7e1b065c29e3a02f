import { Page } from "../ui";

export const Overview = () => (
  <Page title="Overview">
    <p>Not built yet.</p>
  </Page>
);
