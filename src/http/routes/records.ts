import type { ObjectId } from "bson";
import type { Principal } from "../../domain/auth";
import { AppError } from "../../domain/errors";
import type { Deps } from "../../domain/organization";
import { createRecord, deleteRecord, getRecord, listRecords, RECORD_MAX_BODY_BYTES, replaceRecord } from "../../domain/records";
import type { Env } from "../../env";
import { requirePrincipal } from "../authenticate";
import { readJson } from "../body";
import { type AppRequest, depsFor } from "../context";
import { RecordBody, RecordListQuery, recordIdOf } from "../record-schemas";
import { parseOrThrow } from "../validation";

/**
 * The token is verified before the request is read (401 first, as FastAPI's security dependencies
 * answer), and every input is validated before the store is asked, so refusals cost no round trip.
 */
const callerOf = async (request: AppRequest, env: Env): Promise<{ deps: Deps; principal: Principal }> => {
  const deps = await depsFor(request, env);
  return { deps, principal: await requirePrincipal(request, deps) };
};

const idOf = (request: AppRequest): ObjectId => {
  const id = recordIdOf(request.params.id);
  if (!id) throw new AppError("RECORD_NOT_FOUND");
  return id;
};

/** An empty `?cursor=` or `?limit=` means the parameter was left out, as a client filling a URL template sends it. */
const presentParams = (query: AppRequest["query"]) => Object.fromEntries(Object.entries(query).filter(([, value]) => value !== ""));

export const createRecordRoute = async (request: AppRequest, env: Env) => {
  const { deps, principal } = await callerOf(request, env);
  const body = await readJson(request, RecordBody, RECORD_MAX_BODY_BYTES);
  const record = await createRecord(deps, principal, body);
  return Response.json(record, { status: 201, headers: { location: `/org/records/${record.id}` } });
};

export const listRecordsRoute = async (request: AppRequest, env: Env) => {
  const { deps, principal } = await callerOf(request, env);
  const { limit, cursor } = parseOrThrow(RecordListQuery, presentParams(request.query), "query");
  return Response.json(await listRecords(deps, principal, { limit, after: cursor }));
};

export const getRecordRoute = async (request: AppRequest, env: Env) => {
  const { deps, principal } = await callerOf(request, env);
  return Response.json(await getRecord(deps, principal, idOf(request)));
};

export const replaceRecordRoute = async (request: AppRequest, env: Env) => {
  const { deps, principal } = await callerOf(request, env);
  const id = idOf(request);
  const body = await readJson(request, RecordBody, RECORD_MAX_BODY_BYTES);
  return Response.json(await replaceRecord(deps, principal, id, body));
};

export const deleteRecordRoute = async (request: AppRequest, env: Env) => {
  const { deps, principal } = await callerOf(request, env);
  await deleteRecord(deps, principal, idOf(request));
  return new Response(null, { status: 204 });
};
