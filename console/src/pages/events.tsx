import { Page } from "../ui";

export const Events = () => (
  <Page title="Events">
    <p>Not built yet.</p>
  </Page>
);
