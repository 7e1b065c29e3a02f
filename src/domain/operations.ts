import { accountMailOperation } from "./accounts/accounts";
import { joinOperation } from "./accounts/joining";
import { changePasswordOperation } from "./auth/auth";
import { claimDomainOperation, deleteDomainOperation, lapseDomainOperation, verifyDomainOperation } from "./domains/domains";
import { domainJoinOperation } from "./domains/joining";
import { publishOperation } from "./events/outbox";
import { acceptOperation } from "./invitations/accept";
import { createInvitationOperation, invitationMailOperation, revokeInvitationOperation } from "./invitations/invitations";
import type { Operation } from "./kernel/operation";
import { endMembershipOperation } from "./members/departure";
import { createOperation, deleteOperation, renameOperation } from "./organizations/operations";
import { createWebhookOperation, deleteWebhookOperation } from "./webhooks/endpoints";
import { disableEndpointOperation } from "./webhooks/send";

/** The counters of a reconciler run (src/domain/reconciler), as its log line reports them. */
export type ReportCounter = "lifecycle" | "departures" | "accepts" | "accounts" | "relayed" | "events";

/**
 * Every multi-step operation of the service, in the order the reconciler settles them: a departure
 * before an accept (it drops an interrupted accept of the departed member, which finished later
 * would bring them back), an accept or a join by domain before the accounts still joining (finishing one confirms the
 * join), the events carried on other documents before the outboxes are published. The crash
 * matrix (test/worker/crash-matrix.test.ts) cuts every step of every operation listed here.
 */
export interface Registered {
  operation: Operation<unknown>;
  counter: ReportCounter;
}

// The reconciler hands each operation only the markers that operation found: its own marker type.
const registered = <Marker>(operation: Operation<Marker>, counter: ReportCounter): Registered => ({
  operation: operation as unknown as Operation<unknown>,
  counter,
});

export const OPERATIONS: readonly Registered[] = [
  registered(createOperation, "lifecycle"),
  registered(renameOperation, "lifecycle"),
  registered(deleteOperation, "lifecycle"),
  registered(endMembershipOperation, "departures"),
  registered(acceptOperation, "accepts"),
  registered(domainJoinOperation, "accepts"),
  registered(joinOperation, "accounts"),
  registered(createInvitationOperation, "relayed"),
  registered(revokeInvitationOperation, "relayed"),
  registered(createWebhookOperation, "relayed"),
  registered(deleteWebhookOperation, "relayed"),
  registered(disableEndpointOperation, "relayed"),
  registered(changePasswordOperation, "relayed"),
  registered(invitationMailOperation, "relayed"),
  registered(accountMailOperation, "relayed"),
  registered(claimDomainOperation, "relayed"),
  registered(verifyDomainOperation, "relayed"),
  registered(lapseDomainOperation, "relayed"),
  registered(deleteDomainOperation, "relayed"),
  registered(publishOperation, "events"),
];
