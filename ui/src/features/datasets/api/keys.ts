import { domainKeys } from "@/lib/queryKeys";

/** Items, counts, revisions and transfers of a project's dataset. */
export const datasetKeys = domainKeys("datasets");
