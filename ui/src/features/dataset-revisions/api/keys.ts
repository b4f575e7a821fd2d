import { domainKeys } from "@/lib/queryKeys";

export const datasetRevisionKeys = domainKeys("dataset-revisions");
