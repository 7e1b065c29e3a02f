import type { Route } from "../route";
import { accountRoutes } from "./account";
import { loginRoute, logoutRoute, passwordRoute } from "./admin";
import { apiKeyRoutes } from "./api-keys";
import { assetRoutes } from "./assets";
import { consoleRoutes } from "./console";
import { docsRoutes } from "./docs";
import { domainRoutes } from "./domains";
import { listEventsRoute } from "./events";
import { healthRoute, readyRoute } from "./health";
import { acceptInvitationRoute, createInvitationRoute, listInvitationsRoute, revokeInvitationRoute } from "./invitations";
import { joinRequestRoutes, signupRoutes } from "./joining";
import { jwksRoute } from "./jwks";
import { changeRoleRoute, leaveRoute, listMembersRoute, removeMemberRoute, switchRoute } from "./members";
import { createRoute, deleteRoute, getRoute, updateRoute } from "./organizations";
import { platformRoutes } from "./platform";
import { createRecordRoute, deleteRecordRoute, getRecordRoute, listRecordsRoute, replaceRecordRoute } from "./records";
import { roleRoutes } from "./roles";
import { teamRoutes } from "./teams";
import { webhookRoutes } from "./webhooks";

/** Every operation of the API, in the order /docs shows them within each tag. */
const API: Route[] = [
  createRoute,
  getRoute,
  updateRoute,
  deleteRoute,
  loginRoute,
  logoutRoute,
  passwordRoute,
  ...accountRoutes,
  ...signupRoutes,
  switchRoute,
  listMembersRoute,
  changeRoleRoute,
  removeMemberRoute,
  leaveRoute,
  ...roleRoutes,
  ...teamRoutes,
  createInvitationRoute,
  listInvitationsRoute,
  revokeInvitationRoute,
  acceptInvitationRoute,
  ...joinRequestRoutes,
  ...apiKeyRoutes,
  ...domainRoutes,
  listEventsRoute,
  ...webhookRoutes,
  createRecordRoute,
  listRecordsRoute,
  getRecordRoute,
  replaceRecordRoute,
  deleteRecordRoute,
  jwksRoute,
  healthRoute,
  readyRoute,
  ...platformRoutes,
];

/** The one list the router, the 405 answers and the OpenAPI document are built from. */
export const ROUTES: Route[] = [...API, ...docsRoutes, ...assetRoutes, ...consoleRoutes];
